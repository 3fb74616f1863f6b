/** The package version, sent as `X-SDK-User-Agent: sessile-js/<version>`. A test pins it to package.json. */
export const VERSION = "0.1.0";
