package validation

import (
	"bytes"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"google.golang.org/protobuf/proto"
)

// Validate checks a new object of any kind in the scheme. It accepts objects
// before or after defaulting: an empty enum-like field stands for its default.
// The namespace of a namespaced object must already be filled in.
func Validate(obj proto.Message) List {
	switch o := obj.(type) {
	case *corev1.Pod:
		return validatePod(o)
	case *corev1.Service:
		return validateService(o)
	case *corev1.Endpoints:
		return validateEndpoints(o)
	case *corev1.Secret:
		return validateSecret(o)
	case *corev1.ConfigMap:
		return validateConfigMap(o)
	case *corev1.ServiceAccount:
		return validateServiceAccount(o)
	case *corev1.Namespace:
		return validateNamespace(o)
	case *corev1.Node:
		return validateNode(o)
	case *corev1.Event:
		return validateEvent(o)
	case *coordinationv1.Lease:
		return validateLease(o)
	case *appsv1.ReplicaSet:
		return validateReplicaSet(o)
	case *appsv1.Deployment:
		return validateDeployment(o)
	case *batchv1.Job:
		return validateJob(o)
	case *batchv1.CronJob:
		return validateCronJob(o)
	case *certificatesv1.CertificateSigningRequest:
		return validateCSR(o)
	case *rbacv1.Role:
		return validateRole(o)
	case *rbacv1.ClusterRole:
		return validateClusterRole(o)
	case *rbacv1.RoleBinding:
		return validateRoleBinding(o)
	case *rbacv1.ClusterRoleBinding:
		return validateClusterRoleBinding(o)
	}
	return unknownKind(obj)
}

// ValidateUpdate checks an update of oldObj to newObj: everything Validate
// checks on newObj, plus the fields that may not change.
func ValidateUpdate(newObj, oldObj proto.Message) List {
	if newObj == nil || oldObj == nil ||
		newObj.ProtoReflect().Descriptor().FullName() != oldObj.ProtoReflect().Descriptor().FullName() {
		return List{invalid("kind", kindName(newObj), "must match the kind of the old object")}
	}
	errs := Validate(newObj)
	switch n := newObj.(type) {
	case *corev1.Pod:
		o := oldObj.(*corev1.Pod)
		errs = append(errs, metaUpdate(n.GetMetadata(), o.GetMetadata())...)
		errs = append(errs, podUpdate(n, o)...)
	case *corev1.Service:
		o := oldObj.(*corev1.Service)
		errs = append(errs, metaUpdate(n.GetMetadata(), o.GetMetadata())...)
		errs = append(errs, serviceUpdate(n, o)...)
	case *corev1.Secret:
		o := oldObj.(*corev1.Secret)
		errs = append(errs, metaUpdate(n.GetMetadata(), o.GetMetadata())...)
		errs = append(errs, secretUpdate(n, o)...)
	case *corev1.ConfigMap:
		o := oldObj.(*corev1.ConfigMap)
		errs = append(errs, metaUpdate(n.GetMetadata(), o.GetMetadata())...)
		errs = append(errs, configMapUpdate(n, o)...)
	case *corev1.ServiceAccount:
		o := oldObj.(*corev1.ServiceAccount)
		errs = append(errs, metaUpdate(n.GetMetadata(), o.GetMetadata())...)
	case *corev1.Node:
		o := oldObj.(*corev1.Node)
		errs = append(errs, metaUpdate(n.GetMetadata(), o.GetMetadata())...)
		errs = append(errs, nodeUpdate(n, o)...)
	case *appsv1.ReplicaSet:
		o := oldObj.(*appsv1.ReplicaSet)
		errs = append(errs, metaUpdate(n.GetMetadata(), o.GetMetadata())...)
		errs = append(errs, immutable("spec.selector", n.GetSpec().GetSelector(), o.GetSpec().GetSelector())...)
	case *appsv1.Deployment:
		o := oldObj.(*appsv1.Deployment)
		errs = append(errs, metaUpdate(n.GetMetadata(), o.GetMetadata())...)
		errs = append(errs, immutable("spec.selector", n.GetSpec().GetSelector(), o.GetSpec().GetSelector())...)
	case *certificatesv1.CertificateSigningRequest:
		o := oldObj.(*certificatesv1.CertificateSigningRequest)
		errs = append(errs, metaUpdate(n.GetMetadata(), o.GetMetadata())...)
		errs = append(errs, immutable("spec", n.GetSpec(), o.GetSpec())...)
		if oldApproval, newApproval := approval(o), approval(n); oldApproval != "" && oldApproval != newApproval {
			errs = append(errs, invalid(path("status").child("conditions"), newApproval, "the "+oldApproval+" condition may not be removed or changed"))
		}
		if oc := o.GetStatus().GetCertificate(); len(oc) > 0 && !bytes.Equal(oc, n.GetStatus().GetCertificate()) {
			errs = append(errs, forbidden(path("status").child("certificate"), "the certificate may not be changed once issued"))
		}
	case *rbacv1.RoleBinding:
		o := oldObj.(*rbacv1.RoleBinding)
		errs = append(errs, metaUpdate(n.GetMetadata(), o.GetMetadata())...)
		errs = append(errs, immutable("roleRef", n.GetRoleRef(), o.GetRoleRef())...)
	case *rbacv1.ClusterRoleBinding:
		o := oldObj.(*rbacv1.ClusterRoleBinding)
		errs = append(errs, metaUpdate(n.GetMetadata(), o.GetMetadata())...)
		errs = append(errs, immutable("roleRef", n.GetRoleRef(), o.GetRoleRef())...)
	case *batchv1.Job:
		o := oldObj.(*batchv1.Job)
		errs = append(errs, metaUpdate(n.GetMetadata(), o.GetMetadata())...)
		errs = append(errs, jobUpdate(n, o)...)
	default:
		errs = append(errs, metaUpdate(metaOf(newObj), metaOf(oldObj))...)
	}
	return errs
}

func kindName(obj proto.Message) string {
	if obj == nil {
		return "<nil>"
	}
	return string(obj.ProtoReflect().Descriptor().FullName())
}

func unknownKind(obj proto.Message) List {
	return List{notSupported("kind", kindName(obj), "a kind of the scheme")}
}

// immutable reports a change of a message field.
func immutable(p path, newV, oldV proto.Message) List {
	if !proto.Equal(newV, oldV) {
		return List{invalid(p, nil, "field is immutable")}
	}
	return nil
}
