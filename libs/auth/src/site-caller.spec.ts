import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import type { ExecutionContext } from '@nestjs/common';
import { SiteCaller, type Principal, type SiteCall } from './index';

type Factory = (data: unknown, ctx: ExecutionContext) => SiteCall;

/** The function Nest runs for `@SiteCaller(data)` on a route parameter. */
function factoryOf(data?: string): { factory: Factory; data: unknown } {
  class Probe {
    route(@SiteCaller(data) call: SiteCall): string {
      return call.site;
    }
  }
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, Probe, 'route') as Record<
    string,
    { factory: Factory; data: unknown }
  >;
  const [entry] = Object.values(args);
  if (!entry) throw new Error('no parameter metadata');
  return entry;
}

function contextOf(request: object): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

const admin: Principal = {
  kind: 'admin',
  userId: '7f1c0f0e-8d7a-4a53-9d0e-1e2f3a4b5c6d',
  email: 'admin@example.ca',
  sites: { '1000': 'admin' },
  sessionId: 'c2a4e1f0-1111-4222-8333-944455556666',
  authTime: 0,
  amr: ['pwd'],
} as unknown as Principal;

describe('SiteCaller', () => {
  it('gives the route site, the principal, its audit actor and the client address', () => {
    const { factory, data } = factoryOf();
    const call = factory(data, contextOf({ principal: admin, params: { site: '1000' }, ip: '10.0.0.7' }));
    expect(call).toEqual({
      site: '1000',
      principal: admin,
      actor: 'user:7f1c0f0e-8d7a-4a53-9d0e-1e2f3a4b5c6d',
      sourceAddress: '10.0.0.7',
    });
  });

  it('reads a site parameter of another name, and names a service by its service name', () => {
    const { factory, data } = factoryOf('siteNumber');
    const service = { kind: 'service', service: 'scheduler' } as unknown as Principal;
    const call = factory(data, contextOf({ principal: service, params: { siteNumber: '42' }, ip: '::1' }));
    expect(call.site).toBe('42');
    expect(call.actor).toBe('service:scheduler');
  });

  it('refuses a route without AuthGuard (no principal on the request)', () => {
    const { factory, data } = factoryOf();
    expect(() => factory(data, contextOf({ params: { site: '1000' }, ip: '::1' }))).toThrow(
      /without AuthGuard/,
    );
  });
});
