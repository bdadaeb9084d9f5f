/** Shared by the command-line tools under functions/local. */

/**
 * Parses the command line with `parse`. On a bad command line it prints why and the usage and
 * returns undefined; the tool then exits with code 2.
 */
export function parseCommandLine<T>(parse: (argv: string[]) => T, usage: string, argv = process.argv.slice(2)): T | undefined {
  try {
    return parse(argv);
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${usage}`);
    return undefined;
  }
}
