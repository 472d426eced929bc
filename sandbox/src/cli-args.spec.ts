import { joinNegativeNumbers, parseCli, UsageError } from './cli-args';

const env = { SANDBOX_URL: 'http://sandbox.test' };
const message = (argv: string[]) => {
  const request = parseCli(argv, env);
  if (request.help) throw new Error('help');
  return request.body as { type: string; profileName?: string; location?: unknown; context?: unknown; interactive?: unknown };
};

describe('sandbox CLI arguments', () => {
  it('takes negative coordinates as typed, and the place name apart from the profile name', () => {
    const body = message([
      'send-location',
      '--tenant',
      'roads-agency',
      '--from',
      '+56912345678',
      '--name',
      'Ana',
      '--lat',
      '-33.4489',
      '--lng',
      '-70.6693',
      '--location-name',
      'Oficina Central',
    ]);
    expect(body).toMatchObject({
      type: 'location',
      profileName: 'Ana',
      location: { latitude: -33.4489, longitude: -70.6693, name: 'Oficina Central' },
    });
    expect(joinNegativeNumbers(['--lat', '-1', '--voice', '-x'])).toEqual(['--lat=-1', '--voice', '-x']);
    expect(() => message(['send-location', '--lat', '-91', '--lng', '0'])).toThrow(UsageError);
    expect(() => message(['send-location', '--lat', 'north', '--lng', '0'])).toThrow(/--lat must be a number/);
  });

  it('button and list replies answer a message: --reply-to, else the sandbox finds the last one', () => {
    expect(
      message(['send-reply', '--kind', 'list_reply', '--id', 'svc', '--from', '+573001234567', '--reply-to', 'wamid.Q']),
    ).toMatchObject({
      type: 'interactive',
      interactive: { kind: 'list_reply', id: 'svc' },
      context: { messageId: 'wamid.Q' },
    });
    expect(message(['send-reply', '--kind', 'button_reply', '--id', 'yes', '--from', '+573001234567']).context).toBeUndefined();
    expect(() => message(['send-reply', '--kind', 'nfm_reply', '--id', 'x'])).toThrow(/button_reply or list_reply/);
  });

  it('opens a window, calls the sandbox it is given, and explains a wrong command', () => {
    expect(parseCli(['open-window', '--tenant', 'roads-agency', '--from', '+573001234567', '--at', '1767225600'], env)).toEqual({
      sandbox: 'http://sandbox.test',
      method: 'POST',
      path: '/sandbox/windows',
      body: { tenant: 'roads-agency', from: '+573001234567', at: 1767225600 },
    });
    expect(parseCli(['help'], env)).toEqual({ help: true });
    expect(() => parseCli(['teleport'], env)).toThrow(/unknown command teleport/);
    expect(() => parseCli(['send-text', '--bogus'], env)).toThrow(UsageError);
  });
});
