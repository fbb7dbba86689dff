// The one image grammar every image prop is checked against, and the default images of versions.json.
import { defaultImage, formatImageReference, imageVersionLabel, parseImageReference, requireImageTag } from '../../constructs/images';
import versions from '../../versions.json';

const digest = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  test.each([
    ['quay.io/prometheus/prometheus:v3.13.5', { registry: 'quay.io', path: 'prometheus/prometheus', tag: 'v3.13.5' }],
    [`registry.example.com:5000/team/key-server@${digest}`, { registry: 'registry.example.com:5000', path: 'team/key-server', digest }],
    [`localhost/key-server:1.0@${digest}`, { registry: 'localhost', path: 'key-server', tag: '1.0', digest }],
  ])('take %s apart, and write it back unchanged', (reference, parts) => {
    expect(parseImageReference('image', reference)).toEqual(parts);
    expect(formatImageReference(parseImageReference('image', reference))).toBe(reference);
  });

  test.each([
    ['key-server:1.0', /it names no registry/],
    ['grafana/grafana:13.2.3', /it names no registry/],
    ['quay.io/prometheus/prometheus', /neither a tag nor a digest/],
    ['quay.io/prometheus/prometheus:latest', /'latest' names no version/],
    ['quay.io/Prometheus/prometheus:v1', /the path is lower-case/],
    ['quay.io/prometheus/prometheus@sha256:abc', /a digest is sha256:/],
  ])('refuse %s, naming the prop', (reference, why) => {
    expect(() => parseImageReference('standalone.images.prometheus', reference)).toThrow(new RegExp(`^standalone\\.images\\.prometheus must be .*${why.source}`));
  });

  test('a tag names a version: the grammar\'s tag, never latest', () => {
    expect(requireImageTag('imageTag', '1.4.2')).toBe('1.4.2');
    expect(() => requireImageTag('imageTag', 'latest')).toThrow(/^imageTag must name a version/);
    expect(() => requireImageTag('imageTag', 'v1:2')).toThrow(/^imageTag must be a Docker tag/);
  });

  test('the version label is the tag, or the digest\'s first hex digits when there is no tag', () => {
    expect(imageVersionLabel({ registry: 'quay.io', path: 'a', tag: 'v1' })).toBe('v1');
    expect(imageVersionLabel({ registry: 'quay.io', path: 'a', digest })).toBe('sha256-aaaaaaaaaaaa');
  });

  test('the defaults are versions.json, the one table of versions', () => {
    for (const [name, entry] of Object.entries(versions.images)) {
      expect(formatImageReference(defaultImage(name as keyof typeof versions.images))).toBe(`${entry.repository}:${entry.tag}`);
    }
  });
});
