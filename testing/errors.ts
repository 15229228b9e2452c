/** The testing kit's error codes. */
export const TestingErrorCodes = Object.freeze({
  /** `checkPluginConformance` found problems; the error lists every one. */
  PLUGIN_NOT_CONFORMANT: 'PLUGIN_NOT_CONFORMANT',
} as const);
