import { it } from 'vitest';
import { parseKeepalivedConfig } from '../../src/config/keepalived.js';
it('x', async () => {
  const r = await parseKeepalivedConfig(process.env.F!, { configId: 'high' });
  console.log(JSON.stringify(r.config), r.diagnostics.map((d) => `${d.line}:${d.col} ${d.keyword} ${d.severity}: ${d.message}`));
});
