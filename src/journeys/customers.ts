import { sql } from 'kysely';
import type { CountryCode } from 'libphonenumber-js';
import { InvalidPhoneNumber, parsePhone } from '../channels/phone.js';
import { Conflict, InvalidRequest, NotFound } from '../core/errors.js';
import { newId } from '../crypto/tokens.js';
import type { Services } from '../context.js';
import { queuePhoneChangeNotices } from './phone-change-notices.js';
import { appendAudit, customerChain } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { recordRevoked } from '../store/authenticator-revocations.js';
import { lockSecurityState } from '../store/security-state.js';
import type { CustomerRow } from '../store/schema.js';

/** The facts SCA needs about a customer; the bank's systems are their source. */
export interface CustomerInput {
  ref: string;
  displayName: string;
  email?: string | null;
  emailSince?: string | null;
  mobilePhone?: string | null;
  landline?: string | null;
  hasActiveCard?: boolean;
  remoteBanking?: boolean;
  locale?: 'fr' | 'en';
  /** YYYY-MM-DD; with `emancipated`, who may change security settings alone (seed 001). */
  birthDate?: string | null;
  emancipated?: boolean;
}

export interface CustomerView {
  id: string;
  ref: string;
  displayName: string;
  email: string | null;
  emailSince: string | null;
  mobilePhone: string | null;
  mobileConfirmedAt: string | null;
  landline: string | null;
  hasActiveCard: boolean;
  remoteBanking: boolean;
  locale: string;
  birthDate: string | null;
  emancipated: boolean;
  securePhoneChangedAt: string | null;
  createdAt: string;
}

export function customerView(c: CustomerRow): CustomerView {
  return {
    id: c.id,
    ref: c.external_ref,
    displayName: c.display_name,
    email: c.email,
    emailSince: iso(c.email_since),
    mobilePhone: c.mobile_phone,
    mobileConfirmedAt: iso(c.mobile_confirmed_at),
    landline: c.landline,
    hasActiveCard: c.has_active_card,
    remoteBanking: c.remote_banking,
    locale: c.locale,
    birthDate: c.birth_date,
    emancipated: c.emancipated,
    securePhoneChangedAt: iso(c.secure_phone_changed_at),
    createdAt: iso(c.created_at)!,
  };
}

export const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

/** E.164 form of a phone number; one written nationally is of the configured default country. */
function normalisePhone(s: Services, raw: string, field: string): string {
  try {
    return parsePhone(raw, s.config.channels.defaultCountry as CountryCode).e164;
  } catch (e) {
    if (!(e instanceof InvalidPhoneNumber)) throw e;
    throw new InvalidRequest('ERR_INVALID_PHONE', `${field} is not a valid phone number.`, { field });
  }
}

/**
 * A date-time the database stores and gives back as written: its year in UTC 1800–9999 (the schema checks
 * the year as written, and an offset can carry "9999-12-31T23:00:00-14:00" into the year 10000).
 */
function checkedInstant(value: string, field: string): string {
  const year = new Date(value).getUTCFullYear();
  if (!(year >= 1800 && year <= 9999)) {
    throw new InvalidRequest('ERR_VALIDATION', `${field} must fall within the years 1800 to 9999 (UTC).`, { field });
  }
  return value;
}

/** A date for an address the customer does not have is refused rather than dropped. */
function assertEmailForDate(emailSince: string | null | undefined, email: string | null | undefined): void {
  if (emailSince && !email) {
    throw new InvalidRequest('ERR_VALIDATION', 'emailSince says since when the email address is registered: it needs one.', {
      field: 'emailSince',
    });
  }
}

export async function createCustomer(s: Services, input: CustomerInput, actor: string): Promise<CustomerView> {
  const now = s.clock.now();
  const id = newId();
  assertEmailForDate(input.emailSince, input.email);
  const row = {
    id,
    external_ref: input.ref,
    display_name: input.displayName,
    email: input.email ?? null,
    email_since: input.email ? (input.emailSince ? checkedInstant(input.emailSince, 'emailSince') : now.toISOString()) : null,
    mobile_phone: input.mobilePhone ? normalisePhone(s, input.mobilePhone, 'mobilePhone') : null,
    mobile_confirmed_at: input.mobilePhone ? now : null,
    landline: input.landline ? normalisePhone(s, input.landline, 'landline') : null,
    has_active_card: input.hasActiveCard ?? false,
    remote_banking: input.remoteBanking ?? true,
    locale: input.locale ?? 'fr',
    birth_date: input.birthDate ?? null,
    emancipated: input.emancipated ?? false,
    secure_phone_changed_at: null,
    created_at: now,
    updated_at: now,
  };
  return s.db.transaction().execute(async (tx) => {
    const inserted = await tx
      .insertInto('customers')
      .values(row)
      .onConflict((oc) => oc.column('external_ref').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!inserted) throw new Conflict('ERR_CUSTOMER_EXISTS', `A customer with ref "${input.ref}" already exists.`, { field: 'ref' });
    await tx
      .insertInto('security_states')
      .values({ customer_id: id, failed_count: 0, block_level: 0, blocked_until: null, permanently_blocked: false, updated_at: now })
      .execute();
    await appendAudit(tx, customerChain(id), now, { type: 'customer.created', actor, data: { ref: input.ref } });
    return customerView(inserted);
  });
}

/**
 * The bank says a number is no longer the customer's: codes stop going to it, by SMS or by call. The new
 * number is not enrolled in its place: it has proven nothing yet (the customer enrols it, or changes the
 * secure number with a code sent to it).
 */
export async function revokeCodesTo(
  tx: Db,
  c: { customerId: string; phone: string; actor: string; now: Date; kinds?: ('sms' | 'voice')[] },
): Promise<void> {
  const methods = await tx
    .selectFrom('authenticators')
    .select(['id', 'kind', 'category', 'status'])
    .where('customer_id', '=', c.customerId)
    .where('kind', 'in', c.kinds ?? ['sms', 'voice'])
    .where('status', '!=', 'revoked')
    .where(sql<string>`params->>'phone'`, '=', c.phone)
    // Waits for an activation in progress: its method is then seen active, and announced as removed.
    .forUpdate()
    .execute();
  for (const a of methods) {
    await tx.updateTable('authenticators').set({ status: 'revoked', revoked_at: c.now }).where('id', '=', a.id).execute();
    await recordRevoked(tx, c.now, c.actor, { ...a, customerId: c.customerId, wasActive: a.status === 'active' }, 'number_replaced');
  }
}

export async function findCustomer(db: Db, id: string): Promise<CustomerRow> {
  const row = await db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound('Customer');
  return row;
}

export async function findCustomerByRef(db: Db, ref: string): Promise<CustomerRow> {
  const row = await db.selectFrom('customers').selectAll().where('external_ref', '=', ref).executeTakeFirst();
  if (!row) throw new NotFound('Customer');
  return row;
}

export type CustomerPatch = Partial<Omit<CustomerInput, 'ref'>>;

/**
 * Updates facts from the bank's systems; each changed field name (never its value) is audited. A secure
 * number replaced here (an advisor's screen, perhaps after a caller's story: seed 001's warning) is told to
 * the old number and the email, as the customer's own change is, and starts the same cooling-off; the
 * SMS and call methods on the old number are revoked.
 */
export async function updateCustomer(s: Services, id: string, patch: CustomerPatch, actor: string): Promise<CustomerView> {
  const now = s.clock.now();
  const phone =
    patch.mobilePhone === undefined ? undefined : patch.mobilePhone ? normalisePhone(s, patch.mobilePhone, 'mobilePhone') : null;
  const landline = patch.landline === undefined ? undefined : patch.landline ? normalisePhone(s, patch.landline, 'landline') : null;
  if (patch.emailSince) checkedInstant(patch.emailSince, 'emailSince');
  if (patch.email !== undefined) assertEmailForDate(patch.emailSince, patch.email);
  const result = await s.db.transaction().execute(async (tx) => {
    if (phone !== undefined) {
      // A replaced number revokes the methods on it: under the lock changes of the customer's means take
      // (enrolments, removals and resumptions by step-up, the customer's own change), first as they do.
      // An unknown customer has no such row: a 404.
      await lockSecurityState(tx, id);
    }
    const before = await tx.selectFrom('customers').select(['mobile_phone', 'email']).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!before) throw new NotFound('Customer');
    const set: Record<string, unknown> = { updated_at: now };
    if (patch.displayName !== undefined) set.display_name = patch.displayName;
    if (patch.email === undefined && patch.emailSince) {
      // The date alone is about the address on record, as if that address had been sent again with it.
      assertEmailForDate(patch.emailSince, before.email);
      set.email_since = patch.emailSince;
    }
    if (patch.email !== undefined) {
      set.email = patch.email;
      // The bank may say since when an address it already had is registered; a different address is new
      // today, whatever is claimed (the 72 h an app activation waits for start now); the same address sent
      // again without a date keeps its own.
      if (!patch.email) set.email_since = null;
      else if (before.email !== null && before.email !== patch.email) set.email_since = now;
      else if (patch.emailSince) set.email_since = patch.emailSince;
      else if (before.email === null) set.email_since = now;
    }
    const phoneReplaced = phone !== undefined && before.mobile_phone !== null && before.mobile_phone !== phone;
    // The same number sent again (a nightly sync) changes nothing: not its yearly confirmation either.
    if (phone !== undefined && phone !== before.mobile_phone) {
      set.mobile_phone = phone;
      set.mobile_confirmed_at = phone ? now : null;
      if (phoneReplaced) set.secure_phone_changed_at = now;
    }
    if (landline !== undefined) set.landline = landline;
    if (patch.hasActiveCard !== undefined) set.has_active_card = patch.hasActiveCard;
    if (patch.remoteBanking !== undefined) set.remote_banking = patch.remoteBanking;
    if (patch.locale !== undefined) set.locale = patch.locale;
    if (patch.birthDate !== undefined) set.birth_date = patch.birthDate;
    if (patch.emancipated !== undefined) set.emancipated = patch.emancipated;
    const row = await tx.updateTable('customers').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    // Authenticator rows before the audit chain's head, in the order an activation takes them.
    if (phoneReplaced) await revokeCodesTo(tx, { customerId: id, phone: before.mobile_phone!, actor, now });
    await appendAudit(tx, customerChain(id), now, {
      type: 'customer.updated',
      actor,
      data: { fields: Object.keys(patch).sort() },
    });
    if (phoneReplaced) await queuePhoneChangeNotices(tx, s, row, before.mobile_phone!, now);
    return { view: customerView(row), notified: phoneReplaced };
  });
  if (result.notified) s.messagesQueued();
  return result.view;
}
