// A real OpenID Connect provider for the sign-in tests (panva's oidc-provider, certified
// by the OpenID Foundation), on the loopback address. Its own development interactions
// stand in for a city's 统一身份认证 login page: any login name with any password signs in
// as the person of that name. Started by tests/integration/test_oidc.py as
//   node provider.mjs '{"client_id": …, "client_secret": …, "redirect_uris": […]}'
// It prints one line, {"issuer": "http://127.0.0.1:<port>"}, once it listens, and stops
// when its standard input closes (so it never outlives the test run).
import { Provider } from 'oidc-provider';
import { createServer } from 'node:http';

const options = JSON.parse(process.argv[2] ?? '{}');
const server = createServer();
await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: options.client_id,
    client_secret: options.client_secret,
    redirect_uris: options.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  // Every client must use PKCE (S256), not only public ones.
  pkce: { required: () => true },
  cookies: { keys: ['hotline-test-only-cookie-key-0123456789'] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'employee_no'],
  },
  // The person behind a login name: the name itself as preferred_username, a staff number
  // derived from it (a claim a city's system might carry instead), a display name.
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, employee_no: `E${id.length}-${id}`,
          name: `测试 ${id}` };
      },
    };
  },
  features: { devInteractions: { enabled: true } },
});
provider.proxy = false;
server.on('request', provider.callback());

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.stdin.resume();
process.stdin.on('end', () => { server.close(); process.exit(0); });
