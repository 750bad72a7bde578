import { Forbidden, Unprocessable } from '../core/errors.js';
import { isBlocked, nextBlockIsPermanent, unblocked } from '../core/lockout.js';
import type { Services } from '../context.js';
import { appendAudit, customerChain } from '../store/audit.js';
import { enqueueEvent } from '../store/outbox.js';
import { lockSecurityState, saveLockout, toLockout } from '../store/security-state.js';
import { findCustomer, iso } from './customers.js';

export interface SecurityView {
  failedCount: number;
  remainingAttempts: number;
  blocked: boolean;
  blockedUntil: string | null;
  permanent: boolean;
  /** The next block will be permanent: show the customer a warning. */
  nextBlockPermanent: boolean;
}

export async function securityView(s: Services, customerId: string): Promise<SecurityView> {
  await findCustomer(s.db, customerId);
  const row = await s.db.selectFrom('security_states').selectAll().where('customer_id', '=', customerId).executeTakeFirstOrThrow();
  const state = toLockout(row);
  const blocked = isBlocked(state, s.clock.now());
  return {
    failedCount: state.failedCount,
    remainingAttempts: blocked ? 0 : s.lockoutPolicy.maxAttempts - state.failedCount,
    blocked,
    blockedUntil: blocked && !state.permanentlyBlocked ? iso(state.blockedUntil) : null,
    permanent: state.permanentlyBlocked,
    nextBlockPermanent: !state.permanentlyBlocked && nextBlockIsPermanent(state, s.lockoutPolicy),
  };
}

/** How the advisor re-established the customer's identity before lifting a block. */
export interface IdentityCheck {
  method: 'branch-id-document' | 'video-id-document' | 'callback-registered-number' | 'postal-letter';
  reference: string;
}

/** Checks that can lift a permanent block: in person, or a recorded video check of an identity document. */
const REINFORCED_FOR_PERMANENT: IdentityCheck['method'][] = ['branch-id-document', 'video-id-document'];

/**
 * Who can have performed each check. A phone advisor cannot have seen an identity document in person:
 * recording one would be the path a fraudster calling the advisor ("the app failed") hopes for.
 */
const CHECK_CHANNELS: Record<IdentityCheck['method'], readonly string[] | 'any'> = {
  'branch-id-document': ['branch'],
  'video-id-document': ['branch', 'fraud'],
  'callback-registered-number': 'any',
  'postal-letter': 'any',
};

/** Refuses an identity check the advisor's channel cannot have performed (a document seen by phone). */
export function assertCheckPossibleFrom(channel: string, method: IdentityCheck['method']): void {
  const channels = CHECK_CHANNELS[method];
  if (channels !== 'any' && !channels.includes(channel)) {
    throw new Forbidden(`An advisor of the ${channel} channel cannot have performed a ${method} check.`);
  }
}

/**
 * Lifts a block: the only way out of a permanent block (RTS art. 4(3)(b)). The advisor must hold the
 * `unblock` role and record the reinforced identity check that was done; everything is audited and
 * announced to the bank.
 */
export async function unblockCustomer(
  s: Services,
  advisor: { id: string; roles: string[]; channel: string },
  customerId: string,
  input: { identityCheck: IdentityCheck; reason: string },
): Promise<SecurityView> {
  if (!advisor.roles.includes('unblock')) throw new Forbidden('The advisor role "unblock" is required.');
  assertCheckPossibleFrom(advisor.channel, input.identityCheck.method);
  await s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    const state = toLockout(await lockSecurityState(tx, customerId));
    if (!isBlocked(state, now) && state.failedCount === 0) {
      throw new Unprocessable('ERR_NOT_BLOCKED', 'The customer is not blocked.');
    }
    if (state.permanentlyBlocked && !REINFORCED_FOR_PERMANENT.includes(input.identityCheck.method)) {
      throw new Unprocessable(
        'ERR_IDENTITY_CHECK_INSUFFICIENT',
        `A permanent block is lifted only after a reinforced identity check (${REINFORCED_FOR_PERMANENT.join(' or ')}).`,
        { field: 'identityCheck/method' },
      );
    }
    await saveLockout(tx, customerId, unblocked(state, REINFORCED_FOR_PERMANENT.includes(input.identityCheck.method)), now);
    const data = {
      customerId,
      wasPermanent: state.permanentlyBlocked,
      identityCheck: input.identityCheck,
      reason: input.reason,
      advisorId: advisor.id,
      advisorChannel: advisor.channel,
    };
    await appendAudit(tx, customerChain(customerId), now, { type: 'customer.unblocked', actor: `advisor:${advisor.id}`, data });
    await enqueueEvent(tx, now, { type: 'customer.unblocked', rpId: null, data: { customerId, wasPermanent: state.permanentlyBlocked } });
  });
  return securityView(s, customerId);
}
