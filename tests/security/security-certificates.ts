import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertificateFiles {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

/**
 * Creates a throwaway CA and a server certificate for 127.0.0.1 signed by it, with openssl, in
 * `directory`. Each call makes a new CA, so two calls give certificates that do not trust each other.
 */
export function createTestCertificates(directory: string, name: string): CertificateFiles {
  const path = (file: string) => join(directory, `${name}-${file}`);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name} test CA`, '-keyout', path('ca.key'), '-out', path('ca.pem'));
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', path('server.key'), '-out', path('server.csr'));
  writeFileSync(path('server.ext'), 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n');
  openssl('x509', '-req', '-in', path('server.csr'), '-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', path('server.ext'), '-out', path('server.pem'));
  return { caCert: path('ca.pem'), serverCert: path('server.pem'), serverKey: path('server.key') };
}
