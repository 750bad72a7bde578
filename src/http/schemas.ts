import { Type, type TSchema } from '@sinclair/typebox';
import { OPERATION_TYPES } from '../core/operations.js';

/** Response and shared schemas: validation, serialisation (nothing unlisted leaks) and OpenAPI from one source. */
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable machine-readable error code, e.g. ERR_AUTHENTICATION_FAILED' }),
    field: Type.Optional(Type.String({ description: 'The request field at fault, as a JSON pointer without the leading slash' })),
    remainingAttempts: Type.Optional(Type.Integer()),
    nextBlockPermanent: Type.Optional(Type.Boolean()),
    blockedUntil: Type.Optional(Nullable(DateTime)),
    permanent: Type.Optional(Type.Boolean()),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
);

export const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, Type.Ref(ProblemSchema)]));

export const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
export const CustomerAuthParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64 }), authenticatorId: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

export const CustomerSchema = Type.Object(
  {
    id: Type.String(),
    ref: Type.String(),
    displayName: Type.String(),
    email: Nullable(Type.String()),
    emailSince: Nullable(DateTime),
    mobilePhone: Nullable(Type.String()),
    mobileConfirmedAt: Nullable(DateTime),
    landline: Nullable(Type.String()),
    hasActiveCard: Type.Boolean(),
    remoteBanking: Type.Boolean(),
    locale: Type.String(),
    birthDate: Nullable(Type.String({ format: 'date' })),
    emancipated: Type.Boolean(),
    securePhoneChangedAt: Nullable(DateTime),
    createdAt: DateTime,
  },
  { $id: 'Customer' },
);

export const AuthenticatorSchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.String({ description: 'password, totp, recovery, …' }),
    category: Type.Union([Type.Literal('knowledge'), Type.Literal('possession'), Type.Literal('inherence')]),
    status: Type.Union([Type.Literal('pending'), Type.Literal('active'), Type.Literal('suspended'), Type.Literal('revoked')]),
    label: Type.String(),
    createdAt: DateTime,
    activatedAt: Nullable(DateTime),
    lastUsedAt: Nullable(DateTime),
  },
  { $id: 'Authenticator' },
);

export const OperationSchema = Type.Object(
  {
    id: Type.String(),
    customerId: Type.String(),
    type: Type.Union(OPERATION_TYPES.map((t) => Type.Literal(t))),
    status: Type.String({ description: 'pending, authorised, failed, expired, cancelled' }),
    data: Type.Unknown({ description: 'The normalised operation data the customer is shown and every proof is bound to' }),
    linkHash: Type.String({ description: 'base64url SHA-256 of the RFC 8785 canonical data' }),
    createdAt: DateTime,
    expiresAt: DateTime,
    completedAt: Nullable(DateTime),
    methods: Type.Array(Type.String()),
    categories: Type.Array(Type.String()),
    sessionId: Nullable(Type.String({ description: 'The login session it was started in, if any' })),
    availableMethods: Type.Optional(
      Type.Array(Type.Object({ kind: Type.String(), category: Type.String(), authenticatorId: Type.String(), label: Type.String() })),
    ),
  },
  { $id: 'Operation' },
);

export const SecuritySchema = Type.Object(
  {
    failedCount: Type.Integer(),
    remainingAttempts: Type.Integer(),
    blocked: Type.Boolean(),
    blockedUntil: Nullable(DateTime),
    permanent: Type.Boolean(),
    nextBlockPermanent: Type.Boolean({ description: 'The next block will be permanent: warn the customer' }),
  },
  { $id: 'SecurityState' },
);

export const SessionSchema = Type.Object(
  {
    id: Type.String(),
    customerId: Type.String(),
    createdAt: DateTime,
    lastSeenAt: DateTime,
    expiresAt: DateTime,
    userAgent: Nullable(Type.String()),
  },
  { $id: 'Session' },
);

/** What a successful SCA attempt answers (its fields; a login adds the session). */
export const authorisedFields = {
  status: Type.Literal('authorised'),
  authenticationCode: Type.String({ description: 'ES256 JWS, single use; verify with /.well-known/jwks.json' }),
  expiresAt: Type.String(),
  methods: Type.Array(Type.String()),
  categories: Type.Array(Type.String()),
  session: Type.Optional(
    Type.Object({ id: Type.String(), token: Type.String(), expiresAt: Type.String(), idleTimeoutSeconds: Type.Integer() }),
  ),
};

export const SHARED_SCHEMAS = [ProblemSchema, CustomerSchema, AuthenticatorSchema, OperationSchema, SecuritySchema, SessionSchema];
