import { enrolledCategories } from '../methods/registry.js';
import { maskPhone } from '../channels/index.js';
import type { ElementCategory } from '../core/elements.js';
import { OPERATION_TYPES, type OperationType } from '../core/operations.js';
import { decide, methodAllowed } from '../core/policy.js';
import type { Services } from '../context.js';
import { findCustomer } from './customers.js';
import { inCoolingOff, numberCheckDue } from './secure-phone.js';

/**
 * One truth about a customer's "ways in" (seed 000): what they have, what each is good for, whether they
 * can log in and pay with it, and what they could still add given what they own. Web banking's "my
 * security" page, the SCA screen and the advisor console all render this one answer, so no channel
 * tells a customer without a mobile that "adding a mobile number" is the only way.
 */
export interface WayIn {
  id: string;
  kind: string;
  category: ElementCategory;
  /** Every element one use of it proves: two for a passkey (possession + inherence) or the app (+ its PIN). */
  categories: ElementCategory[];
  status: string;
  label: string;
  /** A masked number for SMS and voice, so the screen can say where a code goes. */
  destination?: string;
  voiceMode?: string;
  /** Operation types this method may be used for. */
  usableFor: OperationType[];
}

export interface CanAdd {
  kind: string;
  category: ElementCategory;
  /** What the customer needs to own. */
  needs: string;
  /** How it is set up: by the customer alone, or through the bank (a token is handed over). */
  setup: 'self-service' | 'bank';
}

export interface WaysIn {
  customerId: string;
  methods: WayIn[];
  canLogIn: boolean;
  canPay: boolean;
  canAdd: CanAdd[];
  securePhone: { number: string | null; checkDue: boolean; coolingOff: boolean };
}

const ADDABLE: CanAdd[] = [
  {
    kind: 'totp',
    category: 'possession',
    needs: 'an authenticator app (any phone, tablet or computer) or oathtool',
    setup: 'self-service',
  },
  { kind: 'voice', category: 'possession', needs: 'any telephone line, a landline too', setup: 'self-service' },
  { kind: 'sms', category: 'possession', needs: 'a mobile phone', setup: 'self-service' },
  { kind: 'hotp', category: 'possession', needs: 'a hardware token from the bank', setup: 'bank' },
  { kind: 'ocra', category: 'possession', needs: 'a challenge-response token (card reader) from the bank', setup: 'bank' },
  { kind: 'password', category: 'knowledge', needs: 'nothing', setup: 'self-service' },
];

export async function waysIn(s: Services, customerId: string): Promise<WaysIn> {
  const now = s.clock.now();
  const customer = await findCustomer(s.db, customerId);
  const rows = await s.db
    .selectFrom('authenticators')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('status', 'in', ['active', 'pending', 'suspended'])
    .orderBy('created_at')
    .execute();
  const methods: WayIn[] = rows.map((a) => {
    const p = a.params as { phone?: string; voiceMode?: string };
    const categories = enrolledCategories(a.kind);
    return {
      id: a.id,
      kind: a.kind,
      category: a.category as ElementCategory,
      categories: categories.length ? [...categories] : [a.category as ElementCategory],
      status: a.status,
      label: a.label,
      ...(p.phone ? { destination: maskPhone(p.phone) } : {}),
      ...(a.kind === 'voice' && p.voiceMode ? { voiceMode: p.voiceMode } : {}),
      usableFor: OPERATION_TYPES.filter((t) => methodAllowed(s.scaPolicy, t, a.kind)),
    };
  });
  const active = methods.filter((m) => m.status === 'active');
  const can = (type: OperationType) =>
    decide(
      s.scaPolicy,
      type,
      active.filter((m) => m.usableFor.includes(type)).flatMap((m) => enrolledCategories(m.kind)),
    ).satisfied;
  const has = new Set(active.map((m) => m.kind));
  return {
    customerId,
    methods,
    canLogIn: can('login'),
    canPay: can('payment'),
    // Several TOTP apps or lines may coexist; a second password may not.
    canAdd: ADDABLE.filter((a) => !(a.kind === 'password' && has.has('password'))),
    securePhone: {
      number: customer.mobile_phone ? maskPhone(customer.mobile_phone) : null,
      checkDue: numberCheckDue(customer, now, s.config.securePhone.reconfirmAfterDays),
      coolingOff: inCoolingOff(customer, now, s.config.securePhone.coolingOffHours),
    },
  };
}
