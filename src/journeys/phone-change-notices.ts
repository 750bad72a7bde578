import { securityChangeNotice } from '../channels/index.js';
import type { Services } from '../context.js';
import type { Db } from '../store/db.js';
import type { CustomerRow } from '../store/schema.js';
import { queueMessage } from './messages.js';
import type { Locale } from './otp.js';

/**
 * A secure number replaced (by the customer, or from the bank's systems) is told to the number being
 * replaced and to the email, with what to do if it was not the customer (seed 001). `customer` is the row
 * as it is after the change.
 */
export async function queuePhoneChangeNotices(
  tx: Db,
  s: Pick<Services, 'sealer' | 'config'>,
  customer: CustomerRow,
  oldPhone: string | null,
  now: Date,
): Promise<void> {
  const notice = securityChangeNotice({
    locale: customer.locale as Locale,
    change: { kind: 'secure_phone', newPhone: customer.mobile_phone as never },
    at: now,
    brand: s.config.channels.brand,
  });
  if (oldPhone)
    await queueMessage(tx, s, {
      customerId: customer.id,
      purpose: 'notice:phone-changed',
      now,
      message: { kind: 'sms', to: oldPhone as never, text: notice.sms },
    });
  if (customer.email) {
    await queueMessage(tx, s, {
      customerId: customer.id,
      purpose: 'notice:phone-changed',
      now,
      message: { kind: 'email', to: customer.email, ...notice.email },
    });
  }
}
