import { Secret, TOTP } from 'otpauth';
import { createSesame, type Sesame } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/core/clock.js';
import type { DemoCustomer } from '../../src/demo/seed.js';

/**
 * A whole server with the demo bank and its customers, listening on a free port (the bank calls the API
 * over real HTTP), with a clock the test moves, and the first demo customer's TOTP generator.
 */
export async function startDemoSesame(): Promise<{ sesame: Sesame; clock: ManualClock; customer: DemoCustomer; totp: TOTP }> {
  const clock = new ManualClock(new Date());
  const sesame = await createSesame({
    config: loadConfig({ PORT: '0', SESAME_DEMO: 'true', LOG_LEVEL: 'warn' }),
    dataDir: null,
    clock,
    logger: false,
    webhooks: false,
  });
  await sesame.listen();
  const customer = sesame.demo!.customers[0]!;
  const totp = new TOTP({ secret: Secret.fromBase32(customer.totpSecret), digits: 6, period: 30 });
  return { sesame, clock, customer, totp };
}
