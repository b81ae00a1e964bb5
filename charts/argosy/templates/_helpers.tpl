{{/*
Names compiled Argosy workflows reference. They are fixed, not derived from the release name:
the compiler writes them into every workflow.
*/}}
{{- define "argosy.labels" -}}
app.kubernetes.io/name: argosy
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: argosy
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "metadata") */}}
{{- define "argosy.selector" -}}
app.kubernetes.io/name: argosy
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Labels of one component's objects and pods: (dict "root" $ "component" "metadata") */}}
{{- define "argosy.componentLabels" -}}
{{ include "argosy.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The Argosy image: image.tag (the content tag `argosy build` prints, recommended), else the
chart's appVersion (`argosy build` tags the images with the release version too); never `latest`. */}}
{{- define "argosy.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if eq $tag "latest" -}}
{{- fail "image.tag must not be `latest`: pass the content tag `argosy build` printed" -}}
{{- end -}}
{{ .Values.image.repository }}:{{ $tag }}
{{- end }}

{{- define "argosy.metadataUrl" -}}
http://argosy-metadata.{{ .Release.Namespace }}.svc:8000
{{- end }}

{{- define "argosy.s3Endpoint" -}}
{{- if .Values.minio.enabled -}}
argosy-minio.{{ .Release.Namespace }}.svc:9000
{{- else -}}
{{ required "s3.endpoint (host:port) is required when minio.enabled is false" .Values.s3.endpoint }}
{{- end -}}
{{- end }}

{{- define "argosy.s3Secure" -}}
{{- if .Values.minio.enabled }}false{{ else }}{{ .Values.s3.secure }}{{ end -}}
{{- end }}

{{/*
A secret value: the one given in values, else the one already in the cluster (so upgrades keep
it), else random. (dict "root" $ "secret" NAME "key" KEY "value" GIVEN "length" N)
*/}}
{{- define "argosy.secretValue" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret | default dict -}}
{{- $kept := dig "data" .key "" $existing -}}
{{- if .value -}}
{{ .value }}
{{- else if $kept -}}
{{ $kept | b64dec }}
{{- else -}}
{{ randAlphaNum .length }}
{{- end -}}
{{- end }}

{{/* Security context of every pod: non-root, default seccomp. (dict "uid" N) */}}
{{- define "argosy.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
The environment an Argosy client gets in the cluster: the same settings compiled workflows
carry (metadata URL and token, S3 endpoint, bucket and keys), so the bucket job and `helm test`
exercise exactly what workflow pods use.
*/}}
{{- define "argosy.clientEnv" -}}
- name: ARGOSY_METADATA_URL
  value: {{ include "argosy.metadataUrl" . | quote }}
- name: ARGOSY_TOKEN
  valueFrom:
    secretKeyRef: {name: argosy-metadata-token, key: token}
{{ include "argosy.s3Env" . }}
{{- end }}

{{/*
The bucket's settings: endpoint, bucket, TLS, region and keys (clients, and the metadata
service, whose web UI previews artifacts and shows logs).
*/}}
{{- define "argosy.s3Env" -}}
- name: ARGOSY_S3_ENDPOINT
  value: {{ include "argosy.s3Endpoint" . | quote }}
- name: ARGOSY_S3_BUCKET
  value: {{ .Values.s3.bucket | quote }}
- name: ARGOSY_S3_SECURE
  value: {{ include "argosy.s3Secure" . | quote }}
{{- with .Values.s3.region }}
- name: ARGOSY_S3_REGION
  value: {{ . | quote }}
{{- end }}
- name: ARGOSY_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef: {name: argosy-s3, key: access-key}
- name: ARGOSY_S3_SECRET_KEY
  valueFrom:
    secretKeyRef: {name: argosy-s3, key: secret-key}
{{- end }}

{{/*
A container running the platform check script with the environment of a named template:
(dict "root" $ "name" NAME "args" LIST "env" "argosy.clientEnv")
*/}}
{{- define "argosy.checkContainer" -}}
name: {{ .name }}
image: {{ include "argosy.image" .root }}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
command: ["python", "/opt/argosy-chart/platform_check.py"]
args: {{ toJson .args }}
securityContext:
  {{- toYaml .root.Values.containerSecurityContext | nindent 2 }}
  readOnlyRootFilesystem: true
resources:
  {{- toYaml .root.Values.checks.resources | nindent 2 }}
volumeMounts:
  - {name: scripts, mountPath: /opt/argosy-chart, readOnly: true}
  - {name: tmp, mountPath: /tmp}
env:
  - name: HOME
    value: /tmp
  {{- include .env .root | nindent 2 }}
{{- end }}

{{/* The volumes checkContainer mounts. */}}
{{- define "argosy.checkVolumes" -}}
- name: scripts
  configMap:
    name: argosy-chart-scripts
- name: tmp
  emptyDir: {}
{{- end }}

{{/* ARGOSY_DATABASE_URL of the metadata service: the in-cluster Postgres or an external one. */}}
{{- define "argosy.databaseEnv" -}}
{{- if .Values.postgres.enabled -}}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef: {name: argosy-postgres, key: password}
- name: ARGOSY_DATABASE_URL
  value: "postgresql+psycopg://argosy:$(POSTGRES_PASSWORD)@argosy-postgres.{{ .Release.Namespace }}.svc:5432/argosy"
{{- else -}}
- name: ARGOSY_DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ .Values.externalDatabase.existingSecret | default "argosy-database" }}, key: url}
{{- end -}}
{{- end }}

{{/*
One port of a Service whose type comes from values ({type, nodePort}):
(dict "name" "http" "port" 8000 "service" .Values.metadata.service)
*/}}
{{- define "argosy.servicePort" -}}
- name: {{ .name }}
  port: {{ .port }}
  targetPort: {{ .name }}
  {{- if and (eq .service.type "NodePort") .service.nodePort }}
  nodePort: {{ .service.nodePort }}
  {{- end }}
{{- end }}

{{/* The data volume claim of a StatefulSet: (dict "root" $ "component" "minio" "storage" ...) */}}
{{- define "argosy.dataClaim" -}}
- metadata:
    name: data
    labels:
      {{- include "argosy.selector" (dict "root" .root "component" .component) | nindent 6 }}
  spec:
    accessModes: [ReadWriteOnce]
    {{- with .storage.storageClassName }}
    storageClassName: {{ . }}
    {{- end }}
    resources:
      requests:
        storage: {{ .storage.size }}
{{- end }}
