package discovery

import (
	"context"
	"fmt"

	"github.com/tugboat-sh/tugboat/client/clientset"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/clusterinfo"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Publish creates the cluster-info ConfigMap in kube-public with the
// kubeconfig of server and caPEM, or updates its kubeconfig key (the
// bootstrap signer then signs it again for every signing token). It is
// what tug init does once the control plane runs.
func Publish(ctx context.Context, cs *clientset.Set, server string, caPEM []byte) error {
	kc, err := Kubeconfig(server, caPEM)
	if err != nil {
		return err
	}
	cms := cs.ConfigMaps()
	cm, err := cms.Get(ctx, &metav1.GetOptions{Namespace: clusterinfo.Namespace, Name: clusterinfo.Name})
	switch {
	case status.Code(err) == codes.NotFound:
		_, err = cms.Create(ctx, &corev1.ConfigMap{
			ApiVersion: "v1", Kind: "ConfigMap",
			Metadata: &metav1.ObjectMeta{Namespace: clusterinfo.Namespace, Name: clusterinfo.Name},
			Data:     map[string]string{clusterinfo.KeyKubeconfig: string(kc)},
		})
	case err == nil:
		if cm.GetData()[clusterinfo.KeyKubeconfig] == string(kc) {
			return nil
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[clusterinfo.KeyKubeconfig] = string(kc)
		_, err = cms.Update(ctx, cm)
	}
	if err != nil {
		return fmt.Errorf("publish configmap %s/%s: %w", clusterinfo.Namespace, clusterinfo.Name, err)
	}
	return nil
}
