import { Sealer } from '../crypto/seal.js';
import { totpSealContext } from '../methods/totp/index.js';
import type { Services } from '../context.js';

/**
 * Re-encrypts every secret at rest with the active key-encryption key, after a new key was put first in
 * SESAME_KEKS. Once it reports nothing left under an old key, that key can be removed. Idempotent.
 */
export async function resealAll(s: Services): Promise<{ resealed: number }> {
  const active = s.sealer.activeKeyId;
  const stale = (sealed: string | null): sealed is string => !!sealed && Sealer.keyIdOf(sealed) !== active;
  const again = (sealed: string, context: string) => s.sealer.seal(s.sealer.open(sealed, context), context);
  let resealed = 0;
  await s.db.transaction().execute(async (tx) => {
    for (const a of await tx
      .selectFrom('authenticators')
      .select(['id', 'kind', 'secret_sealed'])
      .where('secret_sealed', 'is not', null)
      .execute()) {
      if (!stale(a.secret_sealed)) continue;
      // Each kind seals under its own context; TOTP is the only sealed kind so far.
      const context = a.kind === 'totp' ? totpSealContext(a.id) : `${a.kind}:${a.id}`;
      await tx
        .updateTable('authenticators')
        .set({ secret_sealed: again(a.secret_sealed, context) })
        .where('id', '=', a.id)
        .execute();
      resealed++;
    }
    for (const k of await tx.selectFrom('signing_keys').select(['kid', 'private_sealed']).execute()) {
      if (!stale(k.private_sealed)) continue;
      await tx
        .updateTable('signing_keys')
        .set({ private_sealed: again(k.private_sealed, `signing-key:${k.kid}`) })
        .where('kid', '=', k.kid)
        .execute();
      resealed++;
    }
    for (const rp of await tx.selectFrom('relying_parties').select(['id', 'webhook_secret_sealed']).execute()) {
      if (!stale(rp.webhook_secret_sealed)) continue;
      await tx
        .updateTable('relying_parties')
        .set({ webhook_secret_sealed: again(rp.webhook_secret_sealed, `webhook:${rp.id}`) })
        .where('id', '=', rp.id)
        .execute();
      resealed++;
    }
    for (const t of await tx.selectFrom('hardware_tokens').select(['serial', 'secret_sealed']).execute()) {
      if (!stale(t.secret_sealed)) continue;
      await tx
        .updateTable('hardware_tokens')
        .set({ secret_sealed: again(t.secret_sealed, `token:${t.serial}`) })
        .where('serial', '=', t.serial)
        .execute();
      resealed++;
    }
    for (const sec of await tx.selectFrom('server_secrets').selectAll().execute()) {
      if (!stale(sec.sealed)) continue;
      await tx
        .updateTable('server_secrets')
        .set({ sealed: again(sec.sealed, `server-secret:${sec.name}`) })
        .where('name', '=', sec.name)
        .execute();
      resealed++;
    }
  });
  return { resealed };
}
