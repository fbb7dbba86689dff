// GitOps outputs: the root kustomization lists exactly dist/*.yaml and `kubectl kustomize` renders it offline to the
// same objects; the Argo CD and Flux examples point at that kustomization in this repository.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { repository as mainRepository } from '../../main';
import { keyServerTarget, manifestFiles, readObjects, type KubeObject } from '../../scripts/common/manifests';
import { findExecutable } from '../../scripts/common/prerequisites';
import { repoRoot } from './helpers/fake-kubectl';

const dist = path.join(repoRoot, 'dist');
const kustomization = parse(fs.readFileSync(path.join(repoRoot, 'kustomization.yaml'), 'utf8')) as { apiVersion: string; kind: string; resources: string[] };
/** The repository main.ts names, which the runbook links point into and the GitOps controllers pull from. */
const repositoryUrl = mainRepository.url;

function key(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function byKey(objects: readonly KubeObject[]): Map<string, KubeObject> {
  return new Map(objects.map((object) => [key(object), object]));
}

function documents(file: string): Array<Record<string, any>> {
  return parseAllDocuments(fs.readFileSync(path.join(repoRoot, file), 'utf8')).map((document) => document.toJSON() as Record<string, any>);
}

describe('root kustomization.yaml', () => {
  test('lists exactly the manifests of dist/ (add a file there, list it here)', () => {
    expect(kustomization).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
    expect([...kustomization.resources].sort()).toEqual(manifestFiles(dist).map((file) => path.relative(repoRoot, file)));
  });

  const kubectl = findExecutable('kubectl');
  (kubectl === undefined ? test.skip : test)(
    kubectl === undefined ? 'renders with `kubectl kustomize` (SKIPPED: kubectl is not installed on this machine)' : 'renders offline with `kubectl kustomize` to exactly the objects of dist/',
    () => {
      // KUBECONFIG=/dev/null: rendering must not need a cluster.
      const result = spawnSync(kubectl as string, ['kustomize', repoRoot], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/dev/null' } });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const rendered = byKey(parseAllDocuments(result.stdout).map((document) => document.toJSON() as KubeObject));
      const expected = byKey(readObjects(dist));
      expect([...rendered.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [name, object] of expected) {
        expect(rendered.get(name)).toEqual(object);
      }
    },
  );
});

describe('gitops examples', () => {
  const target = keyServerTarget(readObjects(dist));

  test('the Argo CD Application syncs the root kustomization of this repository server-side', () => {
    const [application] = documents('gitops/argocd-application.yaml');
    expect(application).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', spec: { project: 'default' } });
    const { source, destination, syncPolicy } = application.spec;
    expect(source.repoURL).toBe(`${repositoryUrl}.git`);
    expect(fs.existsSync(path.join(repoRoot, source.path, 'kustomization.yaml'))).toBe(true);
    expect(path.resolve(repoRoot, source.path)).toBe(repoRoot);
    expect(destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: target.namespace });
    expect(syncPolicy.syncOptions).toContain('ServerSideApply=true');
  });

  test('the Flux Kustomization applies the root kustomization from its GitRepository', () => {
    const [repository, fluxKustomization] = documents('gitops/flux-kustomization.yaml');
    expect(repository).toMatchObject({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', spec: { url: `${repositoryUrl}.git`, ref: { branch: mainRepository.branch } } });
    expect(fluxKustomization).toMatchObject({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { namespace: repository.metadata.namespace },
      spec: { sourceRef: { kind: 'GitRepository', name: repository.metadata.name }, prune: true },
    });
    expect(path.resolve(repoRoot, fluxKustomization.spec.path)).toBe(repoRoot);
    expect(fs.existsSync(path.join(repoRoot, fluxKustomization.spec.path, 'kustomization.yaml'))).toBe(true);
  });
});
