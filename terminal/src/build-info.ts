import packageJson from '../package.json';

// tsup replaces these identifiers (`define` in tsup.config.ts); sources run directly (tests)
// fall back to the values below.
declare const __BUSFARE_BUILD_DATE__: string | undefined;

/** Date this source tree was last released; update it with each release. */
const SOURCE_BUILD_DATE = '2026-12-04';

/** Version of the terminal software, from its package.json. */
export const SOFTWARE_VERSION: string = packageJson.version;

/** UTC calendar date (YYYY-MM-DD) the terminal was built. GNSS dates before it are not trusted as they are. */
export const BUILD_DATE: string =
  typeof __BUSFARE_BUILD_DATE__ === 'string' ? __BUSFARE_BUILD_DATE__ : SOURCE_BUILD_DATE;
