import { Registry } from 'prom-client';
import { vaultTokenMetrics } from './metrics';

describe('vaultTokenMetrics', () => {
  it('shows the lease and the time left of the token as they are at each scrape', async () => {
    const registry = new Registry();
    let lease = { leaseSeconds: 3600, expiresInSeconds: 1200 };
    vaultTokenMetrics(registry, () => lease);
    let text = await registry.metrics();
    expect(text).toContain('\nvault_token_lease_seconds 3600\n');
    expect(text).toContain('\nvault_token_expires_in_seconds 1200\n');
    lease = { leaseSeconds: 7200, expiresInSeconds: 7100 };
    text = await registry.metrics();
    expect(text).toContain('\nvault_token_lease_seconds 7200\n');
    expect(text).toContain('\nvault_token_expires_in_seconds 7100\n');
  });
});
