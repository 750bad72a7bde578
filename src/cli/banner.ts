import type { Sesame } from '../app.js';
import type { Config } from '../config.js';

/** What `npm start` prints: where to go and, in development, the demo credentials. */
export function printBanner(config: Config, sesame: Sesame): void {
  const url = config.publicUrl;
  const database = sesame.services.store.kind === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL';
  // Node's worker threads, one argon2id check each (the `sesame` command sets one per core; libuv's default is 4).
  const threads = process.env.UV_THREADPOOL_SIZE ?? '4';
  const lines = [
    '',
    `  Sésame is running (${config.mode}, ${database}, password checks on ${threads} threads)`,
    '',
    ...(sesame.demo ? [`  Demo web banking   ${url}/`] : []),
    `  Authenticator app  ${url}/app   (the reference PWA: activate it from "Ma sécurité" in the web banking)`,
    `  API reference      ${url}/docs   (OpenAPI: ${url}/openapi.json)`,
    `  Health             ${url}/health  ${url}/ready`,
  ];
  if (sesame.devApiKey) lines.push('', `  Demo relying-party API key:  ${sesame.devApiKey}   (also in ${config.dataDir}/dev-api-key.txt)`);
  const demo = sesame.demo;
  if (demo) {
    lines.push('  Demo customers (identifier / password / TOTP seed, codes by SMS or call, hardware tokens):');
    for (const c of demo.customers) {
      const totp = c.totpSecret ? `${c.totpSecret}   code: oathtool --totp -b ${c.totpSecret}` : 'no TOTP app';
      lines.push(`    ${c.ref.padEnd(8)} ${c.password.padEnd(18)} ${totp}`);
      for (const p of c.phones) lines.push(`    ${''.padEnd(8)} ${''.padEnd(18)} ${p}`);
      const pad = `    ${''.padEnd(8)} ${''.padEnd(18)} `;
      const { hotp, ocra } = c.tokens ?? { hotp: null, ocra: null };
      if (hotp) {
        lines.push(`${pad}HOTP token ${hotp.serial}: oathtool --hotp -c ${hotp.nextCounter} ${hotp.seedHex}`);
        lines.push(`${pad}  (the counter is the next unused one at this start: add 1 per code used)`);
      }
      if (ocra) {
        lines.push(`${pad}OCRA token ${ocra.serial}: suite ${ocra.suite}, seed (hex) ${ocra.seedHex}`);
        lines.push(`${pad}  (type the challenge the SCA screen shows; response = RFC 6287 of seed, suite and challenge)`);
      }
    }
    lines.push(`  SMS and calls of the demo land on ${url}/dev/phone (answer the calls there).`);
    lines.push('', '  Development mode: secrets of the demo are printed here; never run production like this.');
  }
  console.log(lines.join('\n') + '\n');
}
