import { FormatRegistry, Type, type Static } from '@sinclair/typebox';

// TypeBox's own checker knows no formats until told; this is the check ajv-formats makes of an address
// (the HTTP layer's), so an operation's data is judged alike by both.
const EMAIL =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
if (!FormatRegistry.Has('email')) FormatRegistry.Set('email', (value) => EMAIL.test(value));

/**
 * What needs strong customer authentication, and the canonical data of each operation. The canonical
 * data is what the customer is shown and what every proof is bound to (dynamic linking): an amount in
 * minor units with its currency, and the payee(s).
 */
export const OPERATION_TYPES = [
  'login',
  'payment',
  'batch_payment',
  'add_beneficiary',
  'change_phone',
  'change_email',
  'change_address',
  'view_card_pin',
  'card_limit_increase',
  'contract_signature',
  'card_wallet_enrolment',
  'online_card_payment',
  'manage_authenticators',
] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. EUR' });
export const Amount = Type.Object(
  {
    value: Type.Integer({ minimum: 1, maximum: 1e13, description: 'Amount in minor units (cents)' }),
    currency: Currency,
  },
  { additionalProperties: false },
);
export type Amount = Static<typeof Amount>;

export const Payee = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 140 }),
    iban: Type.Optional(Type.String({ minLength: 15, maxLength: 42, description: 'IBAN; spaces allowed' })),
    merchantId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false, description: 'Who is paid: the name shown, with the IBAN or the merchantId (one of them is required)' },
);
export type Payee = Static<typeof Payee>;

const Card = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64, description: "The bank's card reference (never a PAN)" }) },
  { additionalProperties: false },
);
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });
const typed = <T extends OperationType, P extends Record<string, import('@sinclair/typebox').TSchema>>(type: T, props: P) =>
  Type.Object({ type: Type.Literal(type), ...props }, { additionalProperties: false });

export const OperationData = Type.Union([
  typed('login', {}),
  typed('payment', { amount: Amount, payee: Payee }),
  typed('batch_payment', {
    total: Amount,
    payees: Type.Array(Type.Object({ payee: Payee, amount: Amount }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 1000,
    }),
  }),
  typed('add_beneficiary', { payee: Payee }),
  typed('change_phone', { phone: Text(32) }),
  typed('change_email', { email: Type.String({ format: 'email', maxLength: 254 }) }),
  typed('change_address', { address: Text(500) }),
  typed('view_card_pin', { card: Card }),
  typed('card_limit_increase', { card: Card, limit: Amount }),
  typed('contract_signature', {
    contract: Type.Object(
      { id: Text(64), title: Text(200), documentSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) },
      { additionalProperties: false },
    ),
  }),
  typed('card_wallet_enrolment', { card: Card, wallet: Text(64) }),
  typed('online_card_payment', { amount: Amount, payee: Payee }),
  // Binding a new authenticator to the customer, or removing one, is itself done under SCA (RTS art. 24).
  typed('manage_authenticators', {
    action: Type.Union([Type.Literal('add'), Type.Literal('remove'), Type.Literal('regenerate')]),
    kind: Type.String({ pattern: '^[a-z_]{2,32}$' }),
    // What is added, when it is not made here: the phone number of an SMS or voice method, the serial of a
    // hardware token. Shown to the customer, and the code then binds only that number or token; adding
    // one needs it.
    target: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'The phone number or token serial concerned: required to add an SMS or voice method or a token, shown to the customer',
      }),
    ),
  }),
]);
export type OperationData = Static<typeof OperationData>;

/** The statuses an operation moves through. */
export const OPERATION_STATUSES = ['pending', 'authorised', 'failed', 'expired', 'cancelled'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];
