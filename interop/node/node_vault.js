// node-vault 0.12.0 against pkid. Run by interop/scripts, which starts pkid
// with the tutorial's hierarchy, AppRole and Kubernetes auth (a fake
// TokenReview server) and passes what this needs in the environment.
'use strict';
const assert = require('assert');

const env = (k) => { const v = process.env[k]; if (!v) throw new Error(`${k} not set`); return v; };
const ok = (what) => console.log(`ok: ${what}`);

async function main() {
  const vault = require('node-vault')({ endpoint: env('VAULT_ADDR'), token: env('VAULT_TOKEN') });

  await vault.mount({ mount_point: 'pki_node', type: 'pki' });
  const mounts = await vault.mounts();
  assert.strictEqual((mounts.data || mounts)['pki_node/'].type, 'pki');
  ok('mount and list mounts');

  // The legacy sys/policy/:name write node-vault's addPolicy makes.
  await vault.addPolicy({ name: 'node-issuer', rules: 'path "pki_int/issue/*" { capabilities = ["create", "update"] }' });
  const pol = await vault.getPolicy({ name: 'node-issuer' });
  assert.match(pol.rules, /pki_int\/issue/);
  ok('legacy sys/policy write and read');

  const mount = env('PKI_MOUNT');
  await vault.write(`${mount}/roles/node-role`, { allowed_domains: 'example.com', allow_subdomains: true, key_type: 'ec', ttl: '1h' });
  const issued = await vault.write(`${mount}/issue/node-role`, { common_name: 'node.example.com', ttl: '30m' });
  assert.match(issued.data.certificate, /BEGIN CERTIFICATE/);
  assert.match(issued.data.private_key, /PRIVATE KEY/);
  ok(`role and issue (serial ${issued.data.serial_number})`);

  const roles = await vault.list(`${mount}/roles`);
  assert.ok(roles.data.keys.includes('node-role'));
  const certs = await vault.list(`${mount}/certs`);
  assert.ok(certs.data.keys.includes(issued.data.serial_number));
  ok('LIST roles and certs');

  const approle = await vault.approleLogin({ role_id: env('ROLE_ID'), secret_id: env('SECRET_ID') });
  assert.ok(approle.auth.client_token);
  ok('AppRole login');

  const k8s = await vault.kubernetesLogin({ role: 'node', jwt: env('K8S_JWT'), mount_point: env('K8S_MOUNT') });
  assert.ok(k8s.auth.client_token);
  ok(`kubernetesLogin with mount_point=${env('K8S_MOUNT')}`);
  // node-vault's logins replace the client's token with the one minted.
  assert.strictEqual(vault.token, k8s.auth.client_token);
  vault.token = env('VAULT_TOKEN');

  // Vault answers tidy with 202 Accepted; node-vault counts only 200 and
  // 204 as success, so the promise rejects even though tidy started. pkid
  // answers as Vault does, and tidy-status shows it ran.
  let tidyErr;
  try {
    await vault.write(`${mount}/tidy`, { tidy_cert_store: true, safety_buffer: '72h' });
  } catch (e) {
    tidyErr = e;
  }
  assert.ok(tidyErr, 'tidy should reject under node-vault (202)');
  assert.strictEqual(tidyErr.response.statusCode, 202);
  let state;
  for (let i = 0; i < 100 && state !== 'Finished'; i++) {
    state = (await vault.read(`${mount}/tidy-status`)).data.state;
    if (state !== 'Finished') await new Promise((r) => setTimeout(r, 20));
  }
  assert.strictEqual(state, 'Finished');
  ok('tidy: 202 rejected by node-vault as with Vault, tidy-status Finished');
  console.log('node-vault: mounts, sys/policy, roles, issue, LIST, AppRole, kubernetesLogin, tidy 202: all ok');
}

main().catch((e) => { console.error('FAIL:', e && e.stack || e, e && e.response && e.response.body); process.exit(1); });
