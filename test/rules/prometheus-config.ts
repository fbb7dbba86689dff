// Checks a prometheus.yml as emitted with the real promtool: the files the pod would have are written under a temp
// dir, and only the paths of those mounts are moved there. Nothing else changes (Kubernetes service discovery included).
import * as path from 'node:path';
import { runInTempDir, type ToolResult } from './promtool';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * `promtool check config` on `configYaml`, with `podFiles` (absolute path in the pod → contents) present. Every
 * occurrence of a mounted directory in the config is prefixed with the temp dir, once, longest directory first.
 */
export function checkConfigAsMounted(configYaml: string, podFiles: Readonly<Record<string, string>>): ToolResult {
  const directories = [...new Set(Object.keys(podFiles).map((file) => path.posix.dirname(file)))].sort((a, b) => b.length - a.length);
  const escaped = directories.map((directory) => directory.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const moved = directories.length === 0 ? configYaml
    : configYaml.replace(new RegExp(`(?<=^|[\\s"'])(${escaped.join('|')})(?=/)`, 'gm'), '{dir}$1');
  const files: Record<string, string> = { 'prometheus.yml': moved };
  for (const [file, contents] of Object.entries(podFiles)) files[file.replace(/^\//, '')] = contents;
  return runInTempDir('promtool', ['check', 'config', 'prometheus.yml'], files);
}

/**
 * The files a workload's first container sees, from its volume mounts: ConfigMap keys with their contents, Secret keys
 * as placeholders (their contents never sit in the manifests), and the service account token when it is mounted.
 */
export function podFilesOf(objects: readonly any[], kind: string, name: string): Record<string, string> {
  const workload = objects.find((object) => object.kind === kind && object.metadata?.name === name);
  if (workload === undefined) throw new Error(`no ${kind} ${name}`);
  const pod = workload.spec.template.spec;
  const namespace = workload.metadata.namespace;
  const files: Record<string, string> = {};
  for (const mount of pod.containers[0].volumeMounts ?? []) {
    const volume = pod.volumes.find((candidate: any) => candidate.name === mount.name);
    const configMapName = volume?.configMap?.name;
    const secretName = volume?.secret?.secretName;
    if (configMapName !== undefined) {
      const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === configMapName && object.metadata.namespace === namespace);
      if (configMap === undefined) throw new Error(`${kind} ${name} mounts ConfigMap ${configMapName}, which is not among the objects`);
      const items: Array<{ key: string; path: string }> = volume.configMap.items ?? Object.keys(configMap.data).map((key) => ({ key, path: key }));
      for (const item of items) files[path.posix.join(mount.mountPath, item.path)] = configMap.data[item.key];
    } else if (secretName !== undefined) {
      for (const item of volume.secret.items ?? [{ key: 'secret', path: 'secret' }]) {
        files[path.posix.join(mount.mountPath, item.path)] = `placeholder for key ${item.key} of Secret ${secretName}\n`;
      }
    }
  }
  if (pod.automountServiceAccountToken === true) {
    for (const file of ['token', 'ca.crt', 'namespace']) files[`/var/run/secrets/kubernetes.io/serviceaccount/${file}`] = `placeholder ${file}\n`;
  }
  return files;
}
