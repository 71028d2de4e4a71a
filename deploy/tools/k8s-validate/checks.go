package main

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// errs collects messages with their field path.
type errs []string

func (e *errs) add(path string, format string, args ...any) {
	*e = append(*e, path+": "+fmt.Sprintf(format, args...))
}

func (e *errs) list(path string, msgs []string) {
	for _, m := range msgs {
		e.add(path, "%s", m)
	}
}

func (e *errs) fields(fl field.ErrorList) {
	for _, f := range fl {
		*e = append(*e, f.Error())
	}
}

// checkObject runs the per-object rules.
func checkObject(d *doc) []string {
	var e errs
	acc, err := metaOf(d.obj)
	if err != nil {
		return []string{err.Error()}
	}
	checkMeta(&e, d.gvk.Kind, acc)

	if tpl, sel, path := podTemplate(d.obj); tpl != nil {
		e.fields(metav1validation.ValidateLabels(tpl.Labels, field.NewPath(path, "metadata", "labels")))
		e.fields(apivalidation.ValidateAnnotations(tpl.Annotations, field.NewPath(path, "metadata", "annotations")))
		if sel != nil || requiresSelector(d.gvk.Kind) {
			checkSelectorMatchesTemplate(&e, sel, tpl.Labels, path)
		}
		checkPodSpec(&e, &tpl.Spec, path+".spec")
	}

	switch o := d.obj.(type) {
	case *corev1.Pod:
		checkPodSpec(&e, &o.Spec, "spec")
	case *corev1.Service:
		checkService(&e, o)
	case *corev1.ConfigMap:
		for k := range o.Data {
			e.list("data["+k+"]", validation.IsConfigMapKey(k))
		}
	case *corev1.Secret:
		for k := range o.Data {
			e.list("data["+k+"]", validation.IsConfigMapKey(k))
		}
		for k := range o.StringData {
			e.list("stringData["+k+"]", validation.IsConfigMapKey(k))
		}
	case *autoscalingv2.HorizontalPodAutoscaler:
		checkHPA(&e, o)
	case *policyv1.PodDisruptionBudget:
		if (o.Spec.MinAvailable == nil) == (o.Spec.MaxUnavailable == nil) {
			e.add("spec", "exactly one of minAvailable and maxUnavailable must be set")
		}
		checkIntOrPercent(&e, "spec.minAvailable", o.Spec.MinAvailable)
		checkIntOrPercent(&e, "spec.maxUnavailable", o.Spec.MaxUnavailable)
		if o.Spec.Selector == nil {
			e.add("spec.selector", "required")
		} else {
			e.fields(metav1validation.ValidateLabelSelector(o.Spec.Selector, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "selector")))
		}
	case *networkingv1.NetworkPolicy:
		checkNetworkPolicy(&e, o)
	case *networkingv1.Ingress:
		checkIngress(&e, o)
	case *appsv1.Deployment:
		if o.Spec.Strategy.RollingUpdate != nil {
			checkIntOrPercent(&e, "spec.strategy.rollingUpdate.maxSurge", o.Spec.Strategy.RollingUpdate.MaxSurge)
			checkIntOrPercent(&e, "spec.strategy.rollingUpdate.maxUnavailable", o.Spec.Strategy.RollingUpdate.MaxUnavailable)
		}
	}
	return e
}

func metaOf(obj any) (metav1.Object, error) {
	acc, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("object has no metadata")
	}
	return acc, nil
}

func checkMeta(e *errs, kind string, m metav1.Object) {
	name := m.GetName()
	switch {
	case name == "" && m.GetGenerateName() == "":
		e.add("metadata.name", "required")
	case name != "":
		nameFn := apivalidation.NameIsDNSSubdomain
		switch kind {
		case "Service":
			nameFn = apivalidation.NameIsDNS1035Label
		case "Namespace":
			nameFn = apivalidation.NameIsDNSLabel
		}
		e.list("metadata.name", nameFn(name, false))
	}
	if ns := m.GetNamespace(); ns != "" {
		e.list("metadata.namespace", validation.IsDNS1123Label(ns))
	}
	e.fields(metav1validation.ValidateLabels(m.GetLabels(), field.NewPath("metadata", "labels")))
	e.fields(apivalidation.ValidateAnnotations(m.GetAnnotations(), field.NewPath("metadata", "annotations")))
}

func requiresSelector(kind string) bool {
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet":
		return true
	}
	return false
}

// podTemplate returns the pod template of a workload, its selector and the template's field path.
func podTemplate(obj any) (*corev1.PodTemplateSpec, *metav1.LabelSelector, string) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template, o.Spec.Selector, "spec.template"
	case *appsv1.StatefulSet:
		return &o.Spec.Template, o.Spec.Selector, "spec.template"
	case *appsv1.DaemonSet:
		return &o.Spec.Template, o.Spec.Selector, "spec.template"
	case *appsv1.ReplicaSet:
		return &o.Spec.Template, o.Spec.Selector, "spec.template"
	case *batchv1.Job:
		return &o.Spec.Template, nil, "spec.template"
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template, nil, "spec.jobTemplate.spec.template"
	}
	return nil, nil, ""
}

func checkSelectorMatchesTemplate(e *errs, sel *metav1.LabelSelector, tplLabels map[string]string, path string) {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		e.add("spec.selector", "required and non-empty")
		return
	}
	e.fields(metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "selector")))
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		e.add("spec.selector", "%v", err)
		return
	}
	if !s.Matches(labels.Set(tplLabels)) {
		e.add(path+".metadata.labels", "`selector` does not match template `labels` (selector %s)", s.String())
	}
}

func checkPodSpec(e *errs, ps *corev1.PodSpec, path string) {
	if len(ps.Containers) == 0 {
		e.add(path+".containers", "at least one container is required")
	}
	volumes := map[string]bool{}
	for i, v := range ps.Volumes {
		p := fmt.Sprintf("%s.volumes[%d]", path, i)
		e.list(p+".name", validation.IsDNS1123Label(v.Name))
		if volumes[v.Name] {
			e.add(p+".name", "duplicate volume %q", v.Name)
		}
		volumes[v.Name] = true
	}
	names := map[string]bool{}
	all := []struct {
		kind string
		list []corev1.Container
	}{{"initContainers", ps.InitContainers}, {"containers", ps.Containers}}
	for _, group := range all {
		for i := range group.list {
			c := &group.list[i]
			p := fmt.Sprintf("%s.%s[%d]", path, group.kind, i)
			e.list(p+".name", validation.IsDNS1123Label(c.Name))
			if names[c.Name] {
				e.add(p+".name", "duplicate container name %q", c.Name)
			}
			names[c.Name] = true
			checkContainer(e, c, p, volumes)
		}
	}
	if sc := ps.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			e.list(path+".securityContext.runAsUser", validation.IsValidUserID(*sc.RunAsUser))
		}
		if sc.RunAsGroup != nil {
			e.list(path+".securityContext.runAsGroup", validation.IsValidGroupID(*sc.RunAsGroup))
		}
	}
}

func checkContainer(e *errs, c *corev1.Container, p string, volumes map[string]bool) {
	if strings.TrimSpace(c.Image) == "" {
		e.add(p+".image", "required")
	}
	portNames := map[string]bool{}
	for j, port := range c.Ports {
		pp := fmt.Sprintf("%s.ports[%d]", p, j)
		e.list(pp+".containerPort", validation.IsValidPortNum(int(port.ContainerPort)))
		if port.Name != "" {
			e.list(pp+".name", validation.IsValidPortName(port.Name))
			if portNames[port.Name] {
				e.add(pp+".name", "duplicate port name %q", port.Name)
			}
			portNames[port.Name] = true
		}
		checkProtocol(e, pp+".protocol", port.Protocol)
	}
	for j, ev := range c.Env {
		pp := fmt.Sprintf("%s.env[%d]", p, j)
		e.list(pp+".name", validation.IsEnvVarName(ev.Name))
		if ev.ValueFrom != nil {
			n := 0
			vf := ev.ValueFrom
			for _, set := range []bool{vf.FieldRef != nil, vf.ResourceFieldRef != nil, vf.ConfigMapKeyRef != nil, vf.SecretKeyRef != nil, vf.FileKeyRef != nil} {
				if set {
					n++
				}
			}
			if n != 1 {
				e.add(pp+".valueFrom", "exactly one source must be set, found %d", n)
			}
			if ev.Value != "" {
				e.add(pp+".value", "may not be set when valueFrom is set")
			}
			if vf.SecretKeyRef != nil && (vf.SecretKeyRef.Name == "" || vf.SecretKeyRef.Key == "") {
				e.add(pp+".valueFrom.secretKeyRef", "name and key are required")
			}
			if vf.ConfigMapKeyRef != nil && (vf.ConfigMapKeyRef.Name == "" || vf.ConfigMapKeyRef.Key == "") {
				e.add(pp+".valueFrom.configMapKeyRef", "name and key are required")
			}
		}
	}
	for j, ef := range c.EnvFrom {
		pp := fmt.Sprintf("%s.envFrom[%d]", p, j)
		if (ef.ConfigMapRef == nil) == (ef.SecretRef == nil) {
			e.add(pp, "exactly one of configMapRef and secretRef must be set")
		}
	}
	mounts := map[string]bool{}
	for j, vm := range c.VolumeMounts {
		pp := fmt.Sprintf("%s.volumeMounts[%d]", p, j)
		if !volumes[vm.Name] {
			e.add(pp+".name", "volume %q is not defined in the pod's volumes", vm.Name)
		}
		if !strings.HasPrefix(vm.MountPath, "/") {
			e.add(pp+".mountPath", "must be an absolute path, got %q", vm.MountPath)
		}
		if mounts[vm.MountPath] {
			e.add(pp+".mountPath", "duplicate mount path %q", vm.MountPath)
		}
		mounts[vm.MountPath] = true
	}
	for _, pr := range []struct {
		name  string
		probe *corev1.Probe
	}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
		if pr.probe != nil {
			checkProbe(e, pr.probe, p+"."+pr.name, portNames)
		}
	}
	if c.StartupProbe != nil && c.StartupProbe.SuccessThreshold > 1 {
		e.add(p+".startupProbe.successThreshold", "must be 1")
	}
	if c.LivenessProbe != nil && c.LivenessProbe.SuccessThreshold > 1 {
		e.add(p+".livenessProbe.successThreshold", "must be 1")
	}
	for res, req := range c.Resources.Requests {
		if lim, ok := c.Resources.Limits[res]; ok && req.Cmp(lim) > 0 {
			e.add(p+".resources.requests["+string(res)+"]", "%s must be less than or equal to the limit %s", req.String(), lim.String())
		}
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			e.list(p+".securityContext.runAsUser", validation.IsValidUserID(*sc.RunAsUser))
		}
		if sc.Privileged != nil && *sc.Privileged && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			e.add(p+".securityContext", "cannot set allowPrivilegeEscalation to false and privileged to true")
		}
	}
}

func checkProbe(e *errs, pr *corev1.Probe, p string, portNames map[string]bool) {
	n := 0
	for _, set := range []bool{pr.Exec != nil, pr.HTTPGet != nil, pr.TCPSocket != nil, pr.GRPC != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		e.add(p, "exactly one handler (exec, httpGet, tcpSocket, grpc) must be set, found %d", n)
	}
	checkPortRef := func(pp string, port intstr.IntOrString) {
		if port.Type == intstr.String {
			e.list(pp, validation.IsValidPortName(port.StrVal))
			if !portNames[port.StrVal] {
				e.add(pp, "port name %q is not a port of this container", port.StrVal)
			}
		} else {
			e.list(pp, validation.IsValidPortNum(port.IntValue()))
		}
	}
	if g := pr.HTTPGet; g != nil {
		checkPortRef(p+".httpGet.port", g.Port)
		if g.Path != "" && !strings.HasPrefix(g.Path, "/") {
			e.add(p+".httpGet.path", "must start with /")
		}
		if g.Scheme != "" && g.Scheme != corev1.URISchemeHTTP && g.Scheme != corev1.URISchemeHTTPS {
			e.add(p+".httpGet.scheme", "unsupported value %q", g.Scheme)
		}
	}
	if t := pr.TCPSocket; t != nil {
		checkPortRef(p+".tcpSocket.port", t.Port)
	}
	for _, v := range []struct {
		n string
		x int32
	}{{"initialDelaySeconds", pr.InitialDelaySeconds}, {"timeoutSeconds", pr.TimeoutSeconds}, {"periodSeconds", pr.PeriodSeconds}, {"successThreshold", pr.SuccessThreshold}, {"failureThreshold", pr.FailureThreshold}} {
		if v.x < 0 {
			e.add(p+"."+v.n, "must be non-negative")
		}
	}
}

func checkProtocol(e *errs, p string, proto corev1.Protocol) {
	switch proto {
	case "", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
	default:
		e.add(p, "unsupported value %q (TCP, UDP, SCTP)", proto)
	}
}

func checkIntOrPercent(e *errs, p string, v *intstr.IntOrString) {
	if v == nil {
		return
	}
	if v.Type == intstr.String {
		e.list(p, validation.IsValidPercent(v.StrVal))
	} else if v.IntVal < 0 {
		e.add(p, "must be non-negative")
	}
}

func checkService(e *errs, s *corev1.Service) {
	if s.Spec.Type != corev1.ServiceTypeExternalName && len(s.Spec.Ports) == 0 && s.Spec.ClusterIP != corev1.ClusterIPNone {
		e.add("spec.ports", "at least one port is required")
	}
	seen := map[string]bool{}
	for i, p := range s.Spec.Ports {
		pp := fmt.Sprintf("spec.ports[%d]", i)
		if len(s.Spec.Ports) > 1 && p.Name == "" {
			e.add(pp+".name", "required when a Service has more than one port")
		}
		if p.Name != "" {
			e.list(pp+".name", validation.IsDNS1123Label(p.Name))
			if seen[p.Name] {
				e.add(pp+".name", "duplicate port name %q", p.Name)
			}
			seen[p.Name] = true
		}
		e.list(pp+".port", validation.IsValidPortNum(int(p.Port)))
		checkProtocol(e, pp+".protocol", p.Protocol)
		if p.TargetPort.Type == intstr.String {
			e.list(pp+".targetPort", validation.IsValidPortName(p.TargetPort.StrVal))
		} else if p.TargetPort.IntVal != 0 {
			e.list(pp+".targetPort", validation.IsValidPortNum(int(p.TargetPort.IntVal)))
		}
	}
	e.fields(metav1validation.ValidateLabels(s.Spec.Selector, field.NewPath("spec", "selector")))
}

func checkHPA(e *errs, h *autoscalingv2.HorizontalPodAutoscaler) {
	if h.Spec.MaxReplicas < 1 {
		e.add("spec.maxReplicas", "must be at least 1")
	}
	if h.Spec.MinReplicas != nil && (*h.Spec.MinReplicas < 1 || *h.Spec.MinReplicas > h.Spec.MaxReplicas) {
		e.add("spec.minReplicas", "must be between 1 and maxReplicas (%d)", h.Spec.MaxReplicas)
	}
	if h.Spec.ScaleTargetRef.Kind == "" || h.Spec.ScaleTargetRef.Name == "" {
		e.add("spec.scaleTargetRef", "kind and name are required")
	}
	for i, m := range h.Spec.Metrics {
		p := fmt.Sprintf("spec.metrics[%d]", i)
		var ok bool
		switch m.Type {
		case autoscalingv2.ResourceMetricSourceType:
			ok = m.Resource != nil
			if ok && m.Resource.Target.Type == autoscalingv2.UtilizationMetricType && (m.Resource.Target.AverageUtilization == nil || *m.Resource.Target.AverageUtilization < 1) {
				e.add(p+".resource.target.averageUtilization", "required and positive for type Utilization")
			}
		case autoscalingv2.PodsMetricSourceType:
			ok = m.Pods != nil
		case autoscalingv2.ObjectMetricSourceType:
			ok = m.Object != nil
		case autoscalingv2.ExternalMetricSourceType:
			ok = m.External != nil
		case autoscalingv2.ContainerResourceMetricSourceType:
			ok = m.ContainerResource != nil
		default:
			e.add(p+".type", "unsupported value %q", m.Type)
			continue
		}
		if !ok {
			e.add(p, "type %s needs its matching source field", m.Type)
		}
	}
}

func checkNetworkPolicy(e *errs, np *networkingv1.NetworkPolicy) {
	e.fields(metav1validation.ValidateLabelSelector(&np.Spec.PodSelector, metav1validation.LabelSelectorValidationOptions{}, field.NewPath("spec", "podSelector")))
	for i, t := range np.Spec.PolicyTypes {
		if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
			e.add(fmt.Sprintf("spec.policyTypes[%d]", i), "unsupported value %q", t)
		}
	}
	checkPorts := func(p string, ports []networkingv1.NetworkPolicyPort) {
		for j, port := range ports {
			pp := fmt.Sprintf("%s.ports[%d]", p, j)
			if port.Protocol != nil {
				checkProtocol(e, pp+".protocol", *port.Protocol)
			}
			if port.Port != nil {
				if port.Port.Type == intstr.String {
					e.list(pp+".port", validation.IsValidPortName(port.Port.StrVal))
				} else {
					e.list(pp+".port", validation.IsValidPortNum(port.Port.IntValue()))
				}
			}
		}
	}
	checkPeers := func(p string, peers []networkingv1.NetworkPolicyPeer) {
		for j, peer := range peers {
			pp := fmt.Sprintf("%s[%d]", p, j)
			if peer.IPBlock != nil && (peer.PodSelector != nil || peer.NamespaceSelector != nil) {
				e.add(pp, "ipBlock may not be combined with podSelector or namespaceSelector")
			}
			if peer.IPBlock == nil && peer.PodSelector == nil && peer.NamespaceSelector == nil {
				e.add(pp, "one of podSelector, namespaceSelector or ipBlock is required")
			}
		}
	}
	for i, r := range np.Spec.Ingress {
		p := fmt.Sprintf("spec.ingress[%d]", i)
		checkPorts(p, r.Ports)
		checkPeers(p+".from", r.From)
	}
	for i, r := range np.Spec.Egress {
		p := fmt.Sprintf("spec.egress[%d]", i)
		checkPorts(p, r.Ports)
		checkPeers(p+".to", r.To)
	}
}

func checkIngress(e *errs, in *networkingv1.Ingress) {
	for i, r := range in.Spec.Rules {
		if strings.HasPrefix(r.Host, "*.") {
			e.list(fmt.Sprintf("spec.rules[%d].host", i), validation.IsWildcardDNS1123Subdomain(r.Host))
		} else if r.Host != "" {
			e.list(fmt.Sprintf("spec.rules[%d].host", i), validation.IsDNS1123Subdomain(r.Host))
		}
		if r.HTTP == nil {
			continue
		}
		for j, p := range r.HTTP.Paths {
			pp := fmt.Sprintf("spec.rules[%d].http.paths[%d]", i, j)
			if p.PathType == nil {
				e.add(pp+".pathType", "required")
			}
			if p.Path != "" && !strings.HasPrefix(p.Path, "/") {
				e.add(pp+".path", "must be an absolute path")
			}
			if p.Backend.Service == nil && p.Backend.Resource == nil {
				e.add(pp+".backend", "service or resource is required")
			}
			if s := p.Backend.Service; s != nil && s.Port.Name == "" && s.Port.Number == 0 {
				e.add(pp+".backend.service.port", "name or number is required")
			}
		}
	}
}

// ---- cross-object references ----

type workload struct {
	d      *doc
	labels map[string]string
	spec   *corev1.PodSpec
}

func checkRefs(docs []*doc) map[*doc][]string {
	out := map[*doc][]string{}
	add := func(d *doc, format string, args ...any) {
		out[d] = append(out[d], fmt.Sprintf(format, args...))
	}
	var workloads []workload
	byKindName := map[string]*doc{}
	key := func(kind, ns, name string) string { return kind + "/" + ns + "/" + name }
	for _, d := range docs {
		if d.obj == nil {
			continue
		}
		byKindName[key(d.gvk.Kind, d.ns, d.name)] = d
		if tpl, _, _ := podTemplate(d.obj); tpl != nil {
			workloads = append(workloads, workload{d, tpl.Labels, &tpl.Spec})
		} else if p, ok := d.obj.(*corev1.Pod); ok {
			workloads = append(workloads, workload{d, p.Labels, &p.Spec})
		}
	}
	selects := func(ns string, sel labels.Selector) []workload {
		var hit []workload
		for _, w := range workloads {
			if w.d.ns == ns && sel.Matches(labels.Set(w.labels)) {
				hit = append(hit, w)
			}
		}
		return hit
	}
	haveWorkloads := len(workloads) > 0

	for _, d := range docs {
		if d.obj == nil {
			continue
		}
		switch o := d.obj.(type) {
		case *corev1.Service:
			if len(o.Spec.Selector) == 0 || !haveWorkloads {
				break
			}
			hit := selects(d.ns, labels.SelectorFromSet(o.Spec.Selector))
			if len(hit) == 0 {
				add(d, "spec.selector: %v selects no workload in this set", o.Spec.Selector)
				break
			}
			for i, p := range o.Spec.Ports {
				if p.TargetPort.Type != intstr.String {
					continue
				}
				for _, w := range hit {
					if !podHasPortName(w.spec, p.TargetPort.StrVal) {
						add(d, "spec.ports[%d].targetPort: %s %s has no container port named %q", i, w.d.gvk.Kind, w.d.name, p.TargetPort.StrVal)
					}
				}
			}
		case *policyv1.PodDisruptionBudget:
			if o.Spec.Selector == nil || !haveWorkloads {
				break
			}
			if s, err := metav1.LabelSelectorAsSelector(o.Spec.Selector); err == nil && len(selects(d.ns, s)) == 0 {
				add(d, "spec.selector: selects no workload in this set")
			}
		case *networkingv1.NetworkPolicy:
			if !haveWorkloads {
				break
			}
			if s, err := metav1.LabelSelectorAsSelector(&o.Spec.PodSelector); err == nil && !s.Empty() && len(selects(d.ns, s)) == 0 {
				add(d, "spec.podSelector: selects no workload in this set")
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			ref := o.Spec.ScaleTargetRef
			if t, ok := byKindName[key(ref.Kind, d.ns, ref.Name)]; !ok {
				add(d, "spec.scaleTargetRef: %s %s is not in this set", ref.Kind, ref.Name)
			} else if dep, ok := t.obj.(*appsv1.Deployment); ok && dep.Spec.Replicas != nil {
				add(d, "spec.scaleTargetRef: Deployment %s also sets spec.replicas, which fights the autoscaler on every apply", ref.Name)
			}
		case *networkingv1.Ingress:
			for i, r := range o.Spec.Rules {
				if r.HTTP == nil {
					continue
				}
				for j, p := range r.HTTP.Paths {
					if p.Backend.Service == nil {
						continue
					}
					checkIngressBackend(add, d, fmt.Sprintf("spec.rules[%d].http.paths[%d]", i, j), p.Backend.Service, byKindName[key("Service", d.ns, p.Backend.Service.Name)])
				}
			}
			if b := o.Spec.DefaultBackend; b != nil && b.Service != nil {
				checkIngressBackend(add, d, "spec.defaultBackend", b.Service, byKindName[key("Service", d.ns, b.Service.Name)])
			}
		}
	}

	for _, w := range workloads {
		d := w.d
		ps := w.spec
		if sa := ps.ServiceAccountName; sa != "" && sa != "default" {
			if _, ok := byKindName[key("ServiceAccount", d.ns, sa)]; !ok {
				add(d, "serviceAccountName: ServiceAccount %q is not in this set", sa)
			}
		}
		cmKeys := func(name string) (map[string]bool, bool) {
			t, ok := byKindName[key("ConfigMap", d.ns, name)]
			if !ok {
				return nil, false
			}
			keys := map[string]bool{}
			for k := range t.obj.(*corev1.ConfigMap).Data {
				keys[k] = true
			}
			return keys, true
		}
		secretKeys := func(name string) (map[string]bool, bool) {
			t, ok := byKindName[key("Secret", d.ns, name)]
			if !ok {
				return nil, false
			}
			s := t.obj.(*corev1.Secret)
			keys := map[string]bool{}
			for k := range s.Data {
				keys[k] = true
			}
			for k := range s.StringData {
				keys[k] = true
			}
			return keys, true
		}
		optional := func(b *bool) bool { return b != nil && *b }
		for _, c := range append(append([]corev1.Container{}, ps.InitContainers...), ps.Containers...) {
			for _, ef := range c.EnvFrom {
				if r := ef.ConfigMapRef; r != nil && !optional(r.Optional) {
					if _, ok := cmKeys(r.Name); !ok {
						add(d, "container %s: envFrom configMapRef %q is not in this set", c.Name, r.Name)
					}
				}
			}
			for _, ev := range c.Env {
				if ev.ValueFrom == nil {
					continue
				}
				if r := ev.ValueFrom.ConfigMapKeyRef; r != nil && !optional(r.Optional) {
					if keys, ok := cmKeys(r.Name); !ok {
						add(d, "container %s: env %s: ConfigMap %q is not in this set", c.Name, ev.Name, r.Name)
					} else if !keys[r.Key] {
						add(d, "container %s: env %s: ConfigMap %q has no key %q", c.Name, ev.Name, r.Name, r.Key)
					}
				}
				// Secrets are usually created outside the set (existingSecret); check keys only
				// for the ones the set does define.
				if r := ev.ValueFrom.SecretKeyRef; r != nil && !optional(r.Optional) {
					if keys, ok := secretKeys(r.Name); ok && !keys[r.Key] {
						add(d, "container %s: env %s: Secret %q has no key %q", c.Name, ev.Name, r.Name, r.Key)
					}
				}
			}
		}
		for _, v := range ps.Volumes {
			if cm := v.ConfigMap; cm != nil && !optional(cm.Optional) {
				if _, ok := cmKeys(cm.Name); !ok {
					add(d, "volume %s: ConfigMap %q is not in this set", v.Name, cm.Name)
				}
			}
		}
	}
	for d := range out {
		sort.Strings(out[d])
	}
	return out
}

func podHasPortName(ps *corev1.PodSpec, name string) bool {
	for _, c := range ps.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}

func checkIngressBackend(add func(*doc, string, ...any), d *doc, p string, b *networkingv1.IngressServiceBackend, svc *doc) {
	if svc == nil {
		add(d, "%s.backend.service: Service %q is not in this set", p, b.Name)
		return
	}
	for _, sp := range svc.obj.(*corev1.Service).Spec.Ports {
		if (b.Port.Name != "" && sp.Name == b.Port.Name) || (b.Port.Number != 0 && sp.Port == b.Port.Number) {
			return
		}
	}
	add(d, "%s.backend.service.port: Service %q has no port %s", p, b.Name, portString(b.Port))
}

func portString(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return fmt.Sprintf("named %q", p.Name)
	}
	return fmt.Sprintf("%d", p.Number)
}
