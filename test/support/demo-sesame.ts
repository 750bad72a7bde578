import { Secret, TOTP } from 'otpauth';
import { createSesame, type Sesame } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/core/clock.js';
import type { DemoCustomer } from '../../src/demo/seed.js';

/**
 * A whole server with the demo bank and its customers, listening on a free port (the bank calls the API
 * over real HTTP), with a clock the test moves, and the first demo customer's TOTP generator.
 */
export async function startDemoSesame(
  env: Record<string, string> = {},
): Promise<{ sesame: Sesame; clock: ManualClock; customer: DemoCustomer & { totpSecret: string }; totp: TOTP }> {
  const clock = new ManualClock(new Date());
  const sesame = await createSesame({
    config: loadConfig({ PORT: '0', SESAME_DEMO: 'true', LOG_LEVEL: 'warn', ...env }),
    dataDir: null,
    clock,
    logger: false,
    webhooks: false,
  });
  await sesame.listen();
  const first = sesame.demo!.customers[0]!;
  if (!first.totpSecret) throw new Error('the first demo customer has no authenticator app');
  const customer = { ...first, totpSecret: first.totpSecret };
  const totp = new TOTP({ secret: Secret.fromBase32(customer.totpSecret), digits: 6, period: 30 });
  return { sesame, clock, customer, totp };
}
