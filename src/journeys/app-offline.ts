import { randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import { Conflict } from '../core/errors.js';
import { newId } from '../crypto/tokens.js';
import type { Services } from '../context.js';
import { activeApp } from './app-approvals.js';
import { assertPending, findOperation } from './operations.js';

/**
 * Offline mode: when the phone has no network, the web page shows a QR code carrying the operation,
 * signed by the server (a JWS with the authentication-code keys, so the app checks it against the JWKS it
 * already knows). The app shows the operation and computes two groups of 8 digits (possession, knowledge);
 * the customer types them on the page, which submits them as `{ method: 'app_offline', code }`.
 */
export async function startOfflineChallenge(s: Services, rpId: string, operationId: string) {
  const op = await findOperation(s.db, rpId, operationId);
  const now = s.clock.now();
  await assertPending(s.db, op, now);
  const app = await activeApp(s.db, op.customer_id);
  if (!app) throw new Conflict('ERR_NO_APP', 'The customer has no active app.');
  const id = newId();
  const nonce = randomBytes(12).toString('base64url');
  const expiresAt = new Date(Math.min(new Date(op.expires_at).getTime(), now.getTime() + s.config.app.approvalSeconds * 1000));
  await s.db
    .insertInto('app_offline_challenges')
    .values({ id, operation_id: op.id, authenticator_id: app.id, nonce, created_at: now, expires_at: expiresAt, used_at: null })
    .execute();
  const claims = {
    typ: 'sesame-offline',
    challengeId: id,
    operationId: op.id,
    authenticatorId: app.id,
    data: op.data,
    linkHash: op.link_hash,
    nonce,
    exp: Math.floor(expiresAt.getTime() / 1000),
  };
  const qr = await s.signingKeys.signDocument(claims, 'sesame-offline+jws');
  return {
    challengeId: id,
    qr,
    qrSvg: await QRCode.toString(qr, { type: 'svg', errorCorrectionLevel: 'L', margin: 1 }),
    expiresAt: expiresAt.toISOString(),
  };
}
