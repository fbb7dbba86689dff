// Prometheus duration literals: the largest exact unit, and nothing Prometheus would not parse.
import { Duration } from 'cdk8s';
import { promDuration } from '../../../constructs';

describe('promDuration', () => {
  test.each<[Duration, string]>([
    [Duration.seconds(15), '15s'], [Duration.seconds(90), '90s'], [Duration.minutes(5), '5m'], [Duration.hours(2), '2h'],
    [Duration.days(15), '15d'], [Duration.hours(36), '36h'],
  ])('writes %s as %s', (duration, literal) => {
    expect(promDuration(duration)).toBe(literal);
  });

  test('refuses fractions of a second and zero', () => {
    expect(() => promDuration(Duration.millis(1500))).toThrow(/whole number of seconds/);
    expect(() => promDuration(Duration.seconds(0))).toThrow(/positive whole number/);
  });
});
