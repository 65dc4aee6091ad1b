import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (installed by .ci/run when missing); browsers cannot be downloaded here. */
export const CHROMIUM = '/usr/bin/chromium';

/** A real headless Chromium; as root it needs --no-sandbox. */
export async function launchBrowser(): Promise<Browser> {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: root ? ['--no-sandbox'] : [] });
}
