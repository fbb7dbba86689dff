// Where `npm run dev-cert` writes the development certificate and its Secret manifest; shared with deploy.
import * as path from 'node:path';

/** The default output directory (git-ignored, like the `npm start` certificate). */
export const devCertDirectory = '.dev-certs';

/** The Secret manifest written by `npm run dev-cert` for the Secret named `secretName`. */
export function devSecretFile(directory: string, secretName: string): string {
  return path.join(directory, `${secretName}.secret.yaml`);
}
