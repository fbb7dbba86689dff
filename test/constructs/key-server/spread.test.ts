// Where the key server pods go: over nodes, and zones when asked, never blocking scheduling.
import { KeyServerApp, KeyServerAppProps } from '../../../constructs';
import { only, synthesize } from '../helpers/synth';

/* eslint-disable @typescript-eslint/no-explicit-any */

function synth(props: KeyServerAppProps = {}): { app: KeyServerApp; objects: any[] } {
  let app!: KeyServerApp;
  const objects = synthesize((scope) => { app = new KeyServerApp(scope, 'keys', props); });
  return { app, objects };
}

describe('KeyServerApp spread', () => {
  test('pods are spread across nodes, and across zones when asked, without blocking scheduling', () => {
    const keys = (props: KeyServerAppProps) => only(synth(props).objects, 'Deployment').spec.template.spec.topologySpreadConstraints
      .map((c: any) => [c.topologyKey, c.whenUnsatisfiable]);
    expect(keys({})).toEqual([['kubernetes.io/hostname', 'ScheduleAnyway']]);
    const constraints = only(synth({ spreadAcrossZones: true }).objects, 'Deployment').spec.template.spec.topologySpreadConstraints;
    // Only the pods of one ReplicaSet count, so a rollout's leaving pods do not skew where the new ones go.
    expect(constraints.map((c: any) => c.matchLabelKeys)).toEqual([['pod-template-hash'], ['pod-template-hash']]);
    expect(keys({ spreadAcrossZones: true })).toEqual([
      ['kubernetes.io/hostname', 'ScheduleAnyway'], ['topology.kubernetes.io/zone', 'ScheduleAnyway'],
    ]);
  });
});
