import { expect } from 'vitest';
import { ConfigError } from '../../pipeline/errors.js';

/** Runs `f`, expects it to throw a ConfigError, and returns it for assertions on its path and message. */
export function expectConfigError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
