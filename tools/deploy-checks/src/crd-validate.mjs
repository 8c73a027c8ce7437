// Validates custom resources (KEDA, prometheus-operator) against the CRD schemas that the
// @kubernetes-models packages compile from the projects' CRDs. ESM-only packages, so this runs
// as its own Node process: JSON array of manifests on stdin, JSON array of problems on stdout.
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';

const MODELS = {
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
};

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const problems = [];
  for (const doc of JSON.parse(input)) {
    const key = `${doc.apiVersion}/${doc.kind}`;
    const name = `${doc.kind} ${doc.metadata?.name ?? '(no name)'}`;
    const Model = MODELS[key];
    if (!Model) {
      problems.push(`${name}: no schema for ${key}`);
      continue;
    }
    try {
      new Model(doc).validate();
    } catch (err) {
      problems.push(`${name}: ${err.message}`);
    }
  }
  process.stdout.write(JSON.stringify(problems));
});
