// node-oidc-provider as the anchor of bench/refresh.py: its `refresh_token` grant with
// a public client, DPoP-bound refresh tokens rotated on every use, and ES256 JWT access
// tokens. Listens on 127.0.0.1 only.
//
//   node server.js PORT
//
// POST /bench/grant {"jkt": "..."} makes one grant and returns a refresh token bound to
// that key: set-up for the bench, outside the measured window. Everything else is the
// provider itself.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const resource = 'urn:sessile:bench';
const clientId = 'bench';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'bench', alg: 'ES256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
      dpop_bound_access_tokens: true,
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [signingKey] },
  scopes: ['openid', 'offline_access', 'api'],
  rotateRefreshToken: true,
  findAccount: (_ctx, accountId) => ({ accountId, claims: () => ({ sub: accountId }) }),
  features: {
    dPoP: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: resource,
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  ttl: { RefreshToken: 86_400, Grant: 86_400 },
});
provider.on('server_error', (_ctx, error) => console.error(error));

async function grant(jkt) {
  const accountId = `usr_${Math.random().toString(36).slice(2)}`;
  const record = new provider.Grant({ accountId, clientId });
  record.addOIDCScope('openid offline_access');
  record.addResourceScope(resource, 'api');
  const grantId = await record.save();
  const client = await provider.Client.find(clientId);
  const token = new provider.RefreshToken({
    accountId,
    client,
    grantId,
    gty: 'authorization_code',
    scope: 'openid offline_access api',
    resource,
    jkt,
    iiat: Math.floor(Date.now() / 1000),
    authTime: Math.floor(Date.now() / 1000),
  });
  return token.save();
}

const handle = provider.callback();
createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/bench/grant') {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', async () => {
      try {
        const refreshToken = await grant(JSON.parse(body).jkt);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ refresh_token: refreshToken, token_endpoint: `${issuer}/token`, client_id: clientId }));
      } catch (error) {
        res.writeHead(500);
        res.end(`${error} ${error.error_description ?? ''}`);
      }
    });
    return;
  }
  handle(req, res);
}).listen(port, '127.0.0.1', () => console.log(`anchor listening on ${issuer}`));
