// Compiled (not run) by test/types.test.js: the shipped types accept the documented usage.
import { createClient, type Detail, type Client } from '../index.js';
import { VexilProvider } from '../index.js';

async function main(): Promise<void> {
  const c: Client = await createClient({ url: 'https://flags.example.com', clientKey: 'vx_client_x', context: { targetingKey: 'u', plan: 'pro', seats: 3, beta: true, groups: ['a'], signup: new Date() }, storage: 'indexedDB' });
  const on: boolean = c.bool('new-checkout', false);
  const theme: string = c.string('theme', 'light');
  const n: number = c.number('limit', 10);
  const d: Detail = c.detail('new-checkout', false, 'boolean');
  const why: string | undefined = d.errorCode;
  c.setContext({ targetingKey: 'v' }, { now: Date.now(), random: 7 });
  const off = c.on('change', (e) => console.log(e.keys, e.version));
  off();
  c.on('error', (e) => console.log(e.message));
  const all = c.all();
  void [on, theme, n, why, all, new VexilProvider({ url: 'https://x', clientKey: 'k' })];
  c.close();
}
void main;
