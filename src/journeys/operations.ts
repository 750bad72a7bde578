import { linkHash, normaliseOperationData } from '../core/dynamic-linking.js';
import { methodAllowed } from '../core/policy.js';
import { Conflict, NotFound, Unprocessable } from '../core/errors.js';
import type { OperationData, OperationType } from '../core/operations.js';
import { newId } from '../crypto/tokens.js';
import { methodFor } from '../methods/registry.js';
import type { Services } from '../context.js';
import type { Db } from '../store/db.js';
import type { OperationRow } from '../store/schema.js';
import { insertOperation, readSessionOfCustomer } from '../store/operations.js';
import { tokenDigest } from '../crypto/tokens.js';
import { iso } from './customers.js';
import { checkActiveSession } from './sessions.js';

export interface AvailableMethod {
  kind: string;
  category: string;
  authenticatorId: string;
  label: string;
}

export interface OperationView {
  id: string;
  customerId: string;
  type: OperationType;
  status: string;
  data: OperationData;
  linkHash: string;
  createdAt: string;
  expiresAt: string;
  completedAt: string | null;
  methods: string[];
  categories: string[];
  /** The login session it was started in (its knowledge element may be reused). */
  sessionId: string | null;
}

/** A pending operation past its expiry is expired, whether or not the row says so yet. */
export function operationView(op: OperationRow, now?: Date): OperationView {
  const expired = op.status === 'pending' && now !== undefined && new Date(op.expires_at) <= now;
  return {
    id: op.id,
    customerId: op.customer_id,
    type: op.type as OperationType,
    status: expired ? 'expired' : op.status,
    data: op.data as unknown as OperationData,
    linkHash: op.link_hash,
    createdAt: iso(op.created_at)!,
    expiresAt: iso(op.expires_at)!,
    completedAt: iso(op.completed_at),
    methods: op.methods as unknown as string[],
    categories: op.categories,
    sessionId: op.session_id,
  };
}

/**
 * Registers something that needs SCA. The data is normalised and hashed once here; every later proof
 * and the authentication code are bound to that hash (dynamic linking).
 */
export async function createOperation(
  s: Services,
  rpId: string,
  input: { customerId: string; data: OperationData; sessionToken?: string | undefined },
): Promise<OperationView & { availableMethods: AvailableMethod[] }> {
  const data = normaliseOperationData(input.data, 'data');
  const now = s.clock.now();
  let sessionId: string | null = null;
  if (input.sessionToken !== undefined) {
    if (!s.scaPolicy.sessionReuse.has(data.type)) {
      throw new Unprocessable(
        'ERR_SESSION_REUSE_NOT_ALLOWED',
        `A ${data.type} always needs every element afresh; do not pass sessionToken.`,
        { field: 'sessionToken' },
      );
    }
    sessionId = checkActiveSession(s, await sessionOf(s.db, input.customerId, input.sessionToken), rpId, input.customerId).id;
  }
  // One write: the operation, returned with the customer's active authenticators. An unknown customer is
  // the foreign key's refusal: no read before it, on the path every payment takes.
  const created = await insertOperation(s.db, {
    id: newId(),
    customerId: input.customerId,
    rpId,
    type: data.type,
    data: JSON.stringify(data),
    linkHash: linkHash(data),
    createdAt: now,
    expiresAt: new Date(now.getTime() + s.config.operationTtlSeconds * 1000),
    sessionId,
  }).catch((e: { code?: string; constraint?: string }) => {
    if (e.code === FOREIGN_KEY_VIOLATION && e.constraint === 'operations_customer_id_fkey') throw new NotFound('Customer');
    throw e;
  });
  const { available, ...row } = created;
  return { ...operationView(row), availableMethods: usableBy(s, available, data.type) };
}

const FOREIGN_KEY_VIOLATION = '23503';

/**
 * One read: the customer (a 404 comes before anything about the session), and the session the token names,
 * whoever's it is (`checkActiveSession` says whether it may be used).
 */
async function sessionOf(db: Db, customerId: string, token: string) {
  const found = await readSessionOfCustomer(db, customerId, tokenDigest(token));
  if (found === undefined) throw new NotFound('Customer');
  return found;
}

/** The customer's active authenticators that the policy lets this operation type use. */
export async function availableMethods(db: Db, s: Services, customerId: string, type: OperationType): Promise<AvailableMethod[]> {
  const rows = await db
    .selectFrom('authenticators')
    .select(['id', 'kind', 'category', 'label'])
    .where('customer_id', '=', customerId)
    .where('status', '=', 'active')
    .orderBy('created_at')
    .execute();
  return usableBy(s, rows, type);
}

/** Of a customer's active authenticators, those the policy lets this operation type use. */
function usableBy(
  s: Services,
  rows: { id: string; kind: string; category: string; label: string }[],
  type: OperationType,
): AvailableMethod[] {
  return rows
    .filter((r) => methodFor(r.kind) && methodAllowed(s.scaPolicy, type, r.kind))
    .map((r) => ({ kind: r.kind, category: r.category, authenticatorId: r.id, label: r.label }));
}

export async function findOperation(db: Db, rpId: string, id: string): Promise<OperationRow> {
  const row = await db.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirst();
  // Another relying party's operation does not exist for this caller.
  if (!row || row.rp_id !== rpId) throw new NotFound('Operation');
  return row;
}

/** Pending and not past its expiry; an operation found expired is marked so. */
export async function assertPending(db: Db, op: OperationRow, now: Date): Promise<void> {
  if (op.status === 'pending' && new Date(op.expires_at) <= now) {
    await db.updateTable('operations').set({ status: 'expired' }).where('id', '=', op.id).where('status', '=', 'pending').execute();
    throw new Conflict('ERR_OPERATION_EXPIRED', 'The operation has expired; create a new one.');
  }
  if (op.status !== 'pending') {
    throw new Conflict('ERR_OPERATION_NOT_PENDING', `The operation is ${op.status}.`, { operationStatus: op.status });
  }
}

export async function cancelOperation(s: Services, rpId: string, id: string): Promise<OperationView> {
  const op = await findOperation(s.db, rpId, id);
  await assertPending(s.db, op, s.clock.now());
  const row = await s.db
    .updateTable('operations')
    .set({ status: 'cancelled', completed_at: s.clock.now() })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new Conflict('ERR_OPERATION_NOT_PENDING', 'The operation is no longer pending.');
  return operationView(row);
}
