// A real OpenID provider for tests/test_oidc.py (started by tests/servers/oidc_provider.py).
//
// oidc-provider with the client credentials grant and resource indicators, so that an access
// token asked for with resource=<URL> is a JWT (RS256) whose audience is that URL. One static
// client. A fresh RSA key (kid OIDC_KID) is made at every start, so that a restart on the same
// port is a key rotation. Listens on 127.0.0.1:OIDC_PORT (0: any free port); the issuer is
// http://127.0.0.1:PORT. Prints one JSON line on stdout when ready: {"issuer", "port", "kid"}.
//
// Environment: OIDC_PORT, OIDC_KID, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_RESOURCES (resource
// indicators accepted, space-separated), OIDC_TOKEN_TTL (seconds).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';

const env = process.env;
const resources = new Set((env.OIDC_RESOURCES || 'https://api.example.test').split(' ').filter(Boolean));
const kid = env.OIDC_KID || randomUUID();
const ttl = Number(env.OIDC_TOKEN_TTL || 300);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };

const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(env.OIDC_PORT || 0), '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env.OIDC_CLIENT_ID || 'test-client',
      client_secret: env.OIDC_CLIENT_SECRET || 'test-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomUUID()] }, // no cookies in this grant; set so that the provider does not warn
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    introspection: { enabled: false },
    revocation: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resourceIndicator) => {
        if (!resources.has(resourceIndicator)) throw new errors.InvalidTarget();
        return {
          scope: 'api:read',
          audience: resourceIndicator,
          accessTokenFormat: 'jwt',
          accessTokenTTL: ttl,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});
// No unhandled error may end the process quietly: say it on stderr, where the test shows it.
provider.on('server_error', (ctx, err) => console.error('server_error', err));

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer, port, kid })}\n`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
