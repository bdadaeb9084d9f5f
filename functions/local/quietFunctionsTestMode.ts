/**
 * Outside the Functions host, `@azure/functions` warns at import and at every registration that
 * it is in "test mode". The local host calls the handlers itself, so those lines are noise: this
 * module, imported before the triggers, drops exactly them and nothing else.
 */
const NOISE = [/Failed to detect the Azure Functions runtime/, /Skipping call to register function .* test mode/];
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && NOISE.some((re) => re.test(args[0] as string))) return;
  warn(...args);
};
