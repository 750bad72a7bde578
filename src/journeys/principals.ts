import { randomBytes } from 'node:crypto';
import type { Services } from '../context.js';
import { newId, newToken, tokenDigest } from '../crypto/tokens.js';
import { checkedWebhookUrl } from '../events/webhook-url.js';
import { appendAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';

/**
 * The callers of the API: relying parties (the bank's back-ends, with API keys) and advisors (with their
 * own tokens and roles). Keys and tokens are shown once and stored as SHA-256 digests.
 */
export interface RelyingParty {
  id: string;
  name: string;
}

export interface Advisor {
  id: string;
  name: string;
  roles: string[];
  channel: string;
}

/** unblock: lift blocks; read: see a customer's security; app_enrolment: branch activation of the app, lifting its 72 h delay. */
export const ADVISOR_ROLES = ['unblock', 'read', 'app_enrolment'] as const;
export const ADVISOR_CHANNELS = ['branch', 'phone', 'fraud', 'admin'] as const;

export async function createRelyingParty(s: Services, name: string, apiKey = newToken('sk')): Promise<RelyingParty & { apiKey: string }> {
  const id = newId();
  await s.db.transaction().execute(async (tx) => {
    await tx
      .insertInto('relying_parties')
      .values({
        id,
        name,
        api_key_digest: tokenDigest(apiKey),
        webhook_url: null,
        webhook_secret_sealed: null,
        created_at: s.clock.now(),
        revoked_at: null,
      })
      .execute();
    await appendAudit(tx, 'system', s.clock.now(), { type: 'relying_party.created', actor: 'cli', data: { id, name } });
  });
  return { id, name, apiKey };
}

export async function relyingPartyByKey(db: Db, apiKey: string): Promise<RelyingParty | null> {
  const row = await db
    .selectFrom('relying_parties')
    .select(['id', 'name'])
    .where('api_key_digest', '=', tokenDigest(apiKey))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ?? null;
}

/** Sets where the bank receives events; returns the signing secret once. */
export async function setWebhook(s: Services, rpId: string, input: string | null): Promise<{ url: string | null; secret: string | null }> {
  const url = input === null ? null : checkedWebhookUrl(input, s.config.mode);
  const secret = url ? `whsec_${randomBytes(32).toString('base64url')}` : null;
  await s.db.transaction().execute(async (tx) => {
    await tx
      .updateTable('relying_parties')
      .set({ webhook_url: url, webhook_secret_sealed: secret ? s.sealer.seal(secret, `webhook:${rpId}`) : null })
      .where('id', '=', rpId)
      .execute();
    await appendAudit(tx, 'system', s.clock.now(), { type: 'relying_party.webhook_set', actor: `rp:${rpId}`, data: { url } });
  });
  return { url, secret };
}

export async function createAdvisor(
  s: Services,
  a: { name: string; roles: string[]; channel: string },
): Promise<Advisor & { token: string }> {
  const id = newId();
  const token = newToken('adv');
  await s.db.transaction().execute(async (tx) => {
    await tx
      .insertInto('advisors')
      .values({
        id,
        name: a.name,
        roles: a.roles,
        channel: a.channel,
        token_digest: tokenDigest(token),
        created_at: s.clock.now(),
        revoked_at: null,
      })
      .execute();
    await appendAudit(tx, 'system', s.clock.now(), {
      type: 'advisor.created',
      actor: 'cli',
      data: { id, name: a.name, roles: a.roles, channel: a.channel },
    });
  });
  return { id, ...a, token };
}

export async function advisorByToken(db: Db, token: string): Promise<Advisor | null> {
  const row = await db
    .selectFrom('advisors')
    .select(['id', 'name', 'roles', 'channel'])
    .where('token_digest', '=', tokenDigest(token))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ?? null;
}
