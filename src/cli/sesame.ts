import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config.js';
import { ConfigError, SesameError } from '../core/errors.js';
import { createSesame } from '../app.js';
import { createServices, type Services } from '../context.js';
import { systemClock } from '../core/clock.js';
import { openStore } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { verifyAllChains } from '../store/audit.js';
import { resealAll } from '../journeys/reseal.js';
import { activateTotp, enrolTotp } from '../journeys/authenticators.js';
import { createCustomer, findCustomerByRef } from '../journeys/customers.js';
import { ADVISOR_CHANNELS, ADVISOR_ROLES, createAdvisor, createRelyingParty } from '../journeys/principals.js';
import { qrTerminal } from '../methods/totp/totp.js';
import { printBanner } from './banner.js';
import { tokensCommand, TOKENS_HELP } from './tokens.js';
import path from 'node:path';

/**
 * `sesame` — serve, migrate, and the operator's tasks on the same store the server uses.
 * With the embedded database, stop the server first (one process owns it); with PostgreSQL, any time.
 */
const HELP = `Usage: sesame <command> [options]

  serve [--dev]                         Run the server (npm start = sesame serve --dev)
  migrate                               Apply database migrations
  customers create --ref R --name N [--email E] [--mobile M] [--landline L] [--card]
  totp enrol --customer REF [--algorithm SHA1|SHA256|SHA512] [--digits 6|7|8]
                                        Start a TOTP enrolment; prints the otpauth:// URI and a QR code
  totp activate --customer REF --id AUTHENTICATOR_ID --code CODE
  rp create --name NAME                 Create a relying party; prints its API key once
  advisors create --name N --roles unblock,read,app_enrolment --channel branch|phone|fraud|admin
                                        Create an advisor; prints the token once
  keys rotate                           New signing key for authentication codes
  keys reseal                           Re-encrypt secrets at rest with the first key of SESAME_KEKS
  audit verify                          Check every audit hash chain; exit 1 on tampering
${TOKENS_HELP}

Configuration comes from environment variables (see README).`;

const COMMANDS = ['customers create', 'totp enrol', 'totp activate', 'rp create', 'advisors create', 'keys rotate', 'keys reseal', 'audit verify'];
COMMANDS.push('tokens import', 'tokens assign');

async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help') {
    console.log(HELP);
    return 0;
  }
  if (cmd === 'serve') return serve([sub, ...rest].filter((a): a is string => !!a));
  const command = [cmd, sub].filter(Boolean).join(' ');
  // Refuse an unknown command before touching (or creating) any database.
  if (cmd !== 'migrate' && !COMMANDS.includes(command)) {
    console.error(`Unknown command "${command}".\n\n${HELP}`);
    return 2;
  }
  const config = loadConfig();
  if (cmd === 'migrate') {
    const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: pgliteDir(config), migrate: false });
    const applied = await migrateToLatest(store.db);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Already up to date.');
    await store.close();
    return 0;
  }
  return withServices(config, async (s) => {
    const args = rest;
    switch (`${cmd} ${sub ?? ''}`.trim()) {
      case 'customers create': {
        const o = opts(args, { ref: 's', name: 's', email: 's', mobile: 's', landline: 's', card: 'b' });
        const c = await createCustomer(
          s,
          {
            ref: req(o, 'ref'),
            displayName: req(o, 'name'),
            email: o.email ?? null,
            mobilePhone: o.mobile ?? null,
            landline: o.landline ?? null,
            hasActiveCard: !!o.card,
          },
          'cli',
        );
        console.log(JSON.stringify(c, null, 2));
        return 0;
      }
      case 'totp enrol': {
        const o = opts(args, { customer: 's', algorithm: 's', digits: 's', label: 's' });
        // The same choices as the HTTP API: what authenticator apps and oathtool agree on.
        if (o.algorithm && !['SHA1', 'SHA256', 'SHA512'].includes(o.algorithm))
          throw new Error(`--algorithm must be SHA1, SHA256 or SHA512, not "${o.algorithm}".`);
        if (o.digits && !['6', '7', '8'].includes(o.digits)) throw new Error(`--digits must be 6, 7 or 8, not "${o.digits}".`);
        const customer = await findCustomerByRef(s.db, req(o, 'customer'));
        const e = await enrolTotp(s, {
          rpId: 'cli',
          customerId: customer.id,
          label: o.label,
          algorithm: o.algorithm as never,
          digits: o.digits ? (Number(o.digits) as never) : undefined,
        });
        console.log(await qrTerminal(e.otpauthUri));
        console.log(`URI:     ${e.otpauthUri}\nSecret:  ${e.secret}\nId:      ${e.id}`);
        console.log(
          `Activate with: sesame totp activate --customer ${customer.external_ref} --id ${e.id} --code $(oathtool --totp${e.algorithm === 'SHA1' ? '' : `=${e.algorithm}`} -d ${e.digits} -b ${e.secret})`,
        );
        return 0;
      }
      case 'totp activate': {
        const o = opts(args, { customer: 's', id: 's', code: 's' });
        const customer = await findCustomerByRef(s.db, req(o, 'customer'));
        const a = await activateTotp(s, { rpId: 'cli', customerId: customer.id, authenticatorId: req(o, 'id'), code: req(o, 'code') });
        console.log(`TOTP ${a.id} is ${a.status}.`);
        return 0;
      }
      case 'rp create': {
        const o = opts(args, { name: 's' });
        const rp = await createRelyingParty(s, req(o, 'name'));
        console.log(`Relying party ${rp.id}\nAPI key (shown once): ${rp.apiKey}`);
        return 0;
      }
      case 'advisors create': {
        const o = opts(args, { name: 's', roles: 's', channel: 's' });
        const roles = req(o, 'roles')
          .split(',')
          .map((r) => r.trim());
        const bad = roles.find((r) => !(ADVISOR_ROLES as readonly string[]).includes(r));
        if (bad) throw new Error(`Unknown role "${bad}" (known: ${ADVISOR_ROLES.join(', ')}).`);
        const channel = req(o, 'channel');
        if (!(ADVISOR_CHANNELS as readonly string[]).includes(channel))
          throw new Error(`Unknown channel "${channel}" (known: ${ADVISOR_CHANNELS.join(', ')}).`);
        const a = await createAdvisor(s, { name: req(o, 'name'), roles, channel });
        console.log(`Advisor ${a.id}\nToken (shown once): ${a.token}`);
        return 0;
      }
      case 'keys rotate': {
        console.log(`New signing key ${await s.signingKeys.rotate()}; the previous one stays published for a day.`);
        return 0;
      }
      case 'keys reseal': {
        const r = await resealAll(s);
        console.log(`${r.resealed} secrets re-encrypted with key-encryption key "${s.sealer.activeKeyId}".`);
        console.log(
          r.remaining === 0
            ? 'Nothing is left under another key: the previous keys can be removed from SESAME_KEKS.'
            : `${r.remaining} secrets are still under another key (changed during the pass?): run it again before removing a key.`,
        );
        return 0;
      }
      case 'tokens import':
      case 'tokens assign':
        return tokensCommand(s, sub!, args);
      case 'audit verify': {
        const r = await verifyAllChains(s.db);
        for (const b of r.breaks) console.error(`TAMPERED chain ${b.chain} at seq ${b.seq}: ${b.reason}`);
        console.log(`${r.chains} chains, ${r.events} events: ${r.breaks.length ? `${r.breaks.length} broken` : 'intact'}.`);
        return r.breaks.length ? 1 : 0;
      }
      default:
        console.error(`Unknown command "${[cmd, sub].filter(Boolean).join(' ')}".\n\n${HELP}`);
        return 2;
    }
  });
}

async function serve(args: string[]): Promise<number> {
  const dev = args.includes('--dev');
  const env = { ...process.env };
  if (dev && !env.SESAME_MODE) env.SESAME_MODE = 'development';
  const config = loadConfig(env);
  const sesame = await createSesame({ config });
  await sesame.listen();
  printBanner(config, sesame);
  const stop = async () => {
    await sesame.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise<number>(() => {});
}

const pgliteDir = (config: Config) => (config.databaseUrl ? null : path.join(config.dataDir, 'pglite'));

async function withServices(config: Config, fn: (s: Services) => Promise<number>): Promise<number> {
  const store = await openStore({ databaseUrl: config.databaseUrl, poolSize: config.databasePoolSize, dataDir: pgliteDir(config) });
  try {
    return await fn(await createServices(config, systemClock, store, config.dataDir));
  } finally {
    await store.close();
  }
}

type Spec = Record<string, 's' | 'b'>;
function opts<T extends Spec>(args: string[], spec: T): { [K in keyof T]?: T[K] extends 'b' ? boolean : string } {
  const options = Object.fromEntries(Object.entries(spec).map(([k, t]) => [k, { type: t === 's' ? 'string' : 'boolean' }])) as never;
  return parseArgs({ args, options, strict: true }).values as never;
}

function req(o: Record<string, unknown>, name: string): string {
  const v = o[name];
  if (typeof v !== 'string' || !v) throw new Error(`--${name} is required.`);
  return v;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof ConfigError || e instanceof SesameError || e instanceof Error) console.error(`sesame: ${e.message}`);
    else console.error('sesame: failed', e);
    process.exit(1);
  },
);
