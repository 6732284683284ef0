/** A client certificate's principal: Kafka's default, `User:` + the subject DN in RFC 2253 form. */
import { describe, expect, it } from 'vitest';
import { certificatePrincipal, subjectToRfc2253 } from '../../../src/security/certificate-principal.js';

describe('certificate principal', () => {
  it('reverses the RDNs of X509Certificate.subject (certificate order) into RFC 2253 order', () => {
    expect(certificatePrincipal('C=NO\nO=Sluice\nOU=Test\nCN=client')).toBe('User:CN=client,OU=Test,O=Sluice,C=NO');
    expect(certificatePrincipal('CN=alice')).toBe('User:CN=alice');
  });

  it('keeps escaped characters and joins multi-valued RDNs with +', () => {
    // as node prints /C=US/O=Acme, Inc/OU=Eng/CN=client+UID=7 (checked with openssl and node 20)
    expect(subjectToRfc2253('C=US\nO=Acme\\, Inc\nOU=Eng\nCN=client + UID=7')).toBe(
      'CN=client+UID=7,OU=Eng,O=Acme\\, Inc,C=US',
    );
    expect(subjectToRfc2253('CN=a \\+ b')).toBe('CN=a \\+ b');
  });
});
