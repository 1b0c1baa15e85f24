// Debian's Chromium as the tests and benchmarks launch it (never a downloaded browser).
/** The browser: /usr/bin/chromium (Debian's package; make js-deps installs it), or $CHROMIUM. */
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
/** The flags this machine's Chromium needs (see /work/.library/env/machines/go.md): no sandbox as root, no background connections to the closed network. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
