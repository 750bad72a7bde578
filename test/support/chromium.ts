import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: the browser tests never download one. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Debian Chromium with the flags this machine needs: no sandbox as root, and nothing that
 * reaches out to the (closed) network. `backgroundTabs` keeps a background tab running at full pace
 * (a page polling in one tab while the test works in another).
 */
export function launchChromium(opts: { backgroundTabs?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...(opts.backgroundTabs
        ? ['--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows']
        : []),
    ],
  });
}
