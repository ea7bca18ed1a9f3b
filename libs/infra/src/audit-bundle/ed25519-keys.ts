import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** A key file that cannot be read or is not the ed25519 PEM it should be; `message` names the file and what is wrong. */
export class AuditKeyError extends Error {
  override readonly name = 'AuditKeyError';
}

/** An ed25519 key pair as PEM text: PKCS#8 private (`BEGIN PRIVATE KEY`), SPKI public (`BEGIN PUBLIC KEY`), as `openssl genpkey -algorithm ed25519` writes them. */
export interface Ed25519PemPair {
  privatePem: string;
  publicPem: string;
}

/** A fresh ed25519 key pair (node:crypto), PEM-encoded exactly as openssl writes one. */
export const generateEd25519Pair = (): Ed25519PemPair => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};

const readPem = async (file: string, what: string): Promise<string> => {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new AuditKeyError(`cannot read the ${what} ${file}: ${(error as Error).message}`);
  }
};

const requireEd25519 = (key: KeyObject, file: string, what: string): KeyObject => {
  if (key.asymmetricKeyType !== 'ed25519') throw new AuditKeyError(`${file} is a ${key.asymmetricKeyType ?? 'symmetric'} key, not the ed25519 ${what} a bundle needs`);
  return key;
};

/** Reads an ed25519 private key (PKCS#8 PEM); throws AuditKeyError naming the file when unreadable, not PEM or not ed25519. */
export const loadEd25519PrivateKey = async (file: string): Promise<KeyObject> => {
  const pem = await readPem(file, 'private key');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new AuditKeyError(`${file} is not a PEM private key (${(error as Error).message}); make one with \`runledger keys generate\` or \`openssl genpkey -algorithm ed25519\``);
  }
  return requireEd25519(key, file, 'private key');
};

/** Reads an ed25519 public key (SPKI PEM); throws AuditKeyError naming the file when unreadable, not PEM or not ed25519. */
export const loadEd25519PublicKey = async (file: string): Promise<KeyObject> => {
  const pem = await readPem(file, 'public key');
  if (/PRIVATE KEY/.test(pem)) throw new AuditKeyError(`${file} holds a private key: verify takes the public key (\`openssl pkey -in KEY -pubout\`)`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new AuditKeyError(`${file} is not a PEM public key (${(error as Error).message})`);
  }
  return requireEd25519(key, file, 'public key');
};

/** `sha256:<64 hex>` over the key's SPKI DER: names a public key (a private key names its public half). */
export const publicKeyFingerprint = (key: KeyObject): string => {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return `sha256:${createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex')}`;
};
