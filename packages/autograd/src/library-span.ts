/**
 * @file Where the library's code lies, for anomaly mode's "created at" (the first stack frame that is not the
 * library's). This module imports nothing and every entry imports it first, so when a bundler puts the library
 * and the user's code in one script, this module's code comes before all of the library's (bundlers emit a
 * module after the modules it imports), and `start` records that position; each entry's own code comes after
 * all of its imports, and records its position in `ends`. Unbundled, `start`'s file tells the library's folder.
 */

/** Stack traces taken at the library's first module and at the end of each entry (see the file comment). */
export const librarySpan: { readonly start: Error; readonly ends: Error[] } = {
  start: new Error(),
  ends: [],
};
