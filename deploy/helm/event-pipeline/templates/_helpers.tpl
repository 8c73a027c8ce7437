{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "event-pipeline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped name prefix of every resource. */}}
{{- define "event-pipeline.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one app's resources: <fullname>-<app>. Call with (dict "root" $ "app" $meta). */}}
{{- define "event-pipeline.appName" -}}
{{- printf "%s-%s" (include "event-pipeline.fullname" .root | trunc 45 | trimSuffix "-") .app.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "event-pipeline.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "event-pipeline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: event-pipeline
{{- end -}}

{{/* Labels that select one app's pods. Call with (dict "root" $ "app" $meta). */}}
{{- define "event-pipeline.selectorLabels" -}}
app.kubernetes.io/name: {{ include "event-pipeline.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .app.name }}
{{- end -}}

{{- define "event-pipeline.appLabels" -}}
{{ include "event-pipeline.labels" .root }}
app.kubernetes.io/component: {{ .app.name }}
{{- end -}}

{{/* What each app reads from its environment, generated from the config schemas (files/apps.json). */}}
{{- define "event-pipeline.apps" -}}
{{- (.Files.Get "files/apps.json" | fromJson).apps | toJson -}}
{{- end -}}

{{- define "event-pipeline.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "event-pipeline.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image of one app: <repository>/<app>@<digest> or :<tag>. Call with (dict "root" $ "app" $meta "values" $values). */}}
{{- define "event-pipeline.image" -}}
{{- $image := .root.Values.image -}}
{{- $repository := default (printf "%s/%s" $image.repository .app.name) .values.image.repository -}}
{{- $digest := default $image.digest .values.image.digest -}}
{{- if $digest -}}
{{- printf "%s@%s" $repository $digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default .root.Chart.AppVersion (default $image.tag .values.image.tag)) -}}
{{- end -}}
{{- end -}}

{{/*
Non-secret values of the shared endpoints, by env name. Only the names an app's schema declares
are used (files/apps.json "shared"); empty values are left out so the app's default applies.
*/}}
{{- define "event-pipeline.sharedEnv" -}}
{{- $v := .Values -}}
KAFKA_BROKERS: {{ required "kafka.brokers is required (bootstrap servers of your Kafka)" $v.kafka.brokers | quote }}
KAFKA_SSL: {{ $v.kafka.ssl | toString | quote }}
KAFKA_SASL_MECHANISM: {{ $v.kafka.sasl.mechanism | quote }}
SCHEMA_REGISTRY_URL: {{ required "schemaRegistry.url is required" $v.schemaRegistry.url | quote }}
S3_ENDPOINT: {{ required "s3.endpoint is required" $v.s3.endpoint | quote }}
S3_REGION: {{ $v.s3.region | quote }}
S3_BUCKET: {{ required "s3.bucket is required" $v.s3.bucket | quote }}
S3_PATH_STYLE: {{ $v.s3.pathStyle | toString | quote }}
TRINO_URL: {{ required "trino.url is required" $v.trino.url | quote }}
TRINO_USER: {{ $v.trino.user | quote }}
TRINO_CATALOG: {{ $v.trino.catalog | quote }}
{{- end -}}

{{/* Secret references of the shared endpoints, by env name: {secret, key}; only configured ones. */}}
{{- define "event-pipeline.sharedSecretEnv" -}}
{{- $v := .Values -}}
{{- with $v.kafka.sasl.existingSecret }}
KAFKA_SASL_USERNAME: {secret: {{ . | quote }}, key: {{ $v.kafka.sasl.usernameKey | quote }}}
KAFKA_SASL_PASSWORD: {secret: {{ . | quote }}, key: {{ $v.kafka.sasl.passwordKey | quote }}}
{{- end }}
{{- with $v.schemaRegistry.existingSecret }}
SCHEMA_REGISTRY_USERNAME: {secret: {{ . | quote }}, key: {{ $v.schemaRegistry.usernameKey | quote }}}
SCHEMA_REGISTRY_PASSWORD: {secret: {{ . | quote }}, key: {{ $v.schemaRegistry.passwordKey | quote }}}
{{- end }}
{{- with $v.s3.existingSecret }}
S3_ACCESS_KEY: {secret: {{ . | quote }}, key: {{ $v.s3.accessKeyKey | quote }}}
S3_SECRET_KEY: {secret: {{ . | quote }}, key: {{ $v.s3.secretKeyKey | quote }}}
{{- end }}
{{- with $v.trino.existingSecret }}
TRINO_PASSWORD: {secret: {{ . | quote }}, key: {{ $v.trino.passwordKey | quote }}}
{{- end }}
{{- with $v.icebergCatalog.existingSecret }}
CATALOG_JDBC_URL: {secret: {{ . | quote }}, key: {{ $v.icebergCatalog.urlKey | quote }}}
{{- end }}
{{- end -}}

{{/* The ConfigMap data of one app. Call with (dict "root" $ "app" $meta "values" $values). */}}
{{- define "event-pipeline.configData" -}}
{{- $shared := include "event-pipeline.sharedEnv" .root | fromYaml -}}
HTTP_HOST: "0.0.0.0"
HTTP_PORT: {{ .root.Values.containerPort | toString | quote }}
{{- if .app.spool }}
SPOOL_DIR: {{ .root.Values.spoolMountPath | quote }}
{{- end }}
{{- range .app.shared }}
{{- if and (hasKey $shared .) (ne (index $shared . | toString) "") }}
{{ . }}: {{ index $shared . | toString | quote }}
{{- end }}
{{- end }}
{{- range $name, $value := .values.config }}
{{- if not (kindIs "invalid" $value) }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- end -}}
