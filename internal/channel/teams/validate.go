package teams

import (
	"fmt"
	"strings"

	"github.com/heraldhq/herald/internal/channel"
)

// sigParam is the query parameter that carries a workflow URL's shared-access signature.
// https://learn.microsoft.com/en-us/azure/logic-apps/logic-apps-securing-a-logic-app#generate-shared-access-signatures-sas
const sigParam = "sig"

// Validate checks that d can receive Teams messages: a Teams configuration whose webhook URL
// is an absolute http or https URL with a path. A URL on Power Automate's hosts
// (*.logic.azure.com, *.api.powerplatform.com) must be a workflow trigger over https with its
// api-version and sig; other hosts (a proxy, a test fake) are only checked loosely. The URL of
// a retired Office 365 connector (outlook.office.com/webhook, *.webhook.office.com) is refused
// with directions. The error wraps channel.ErrInvalidDestination and a *channel.FieldError
// naming "webhook_url", and never contains the URL's signature.
func (c *Channel) Validate(d channel.Destination) error {
	if d.Channel != "" && d.Channel != Name {
		return fmt.Errorf("%w: teams: destination is for channel %q", channel.ErrInvalidDestination, d.Channel)
	}
	cfg, err := configOf(d)
	if err != nil {
		return fmt.Errorf("%w: %w", channel.ErrInvalidDestination, err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %w", channel.ErrInvalidDestination, err)
	}
	return nil
}

// checkURL applies Validate's URL rules. Its errors show the URL only through
// channel.RedactURL.
func checkURL(raw string) error {
	u, err := channel.CheckWebhookURL(Name, raw)
	if err != nil {
		return err
	}
	host := strings.ToLower(u.Hostname())
	if legacyConnector(host, u.Path) {
		// Office 365 connectors are retired; their MessageCards fail silently after a 2xx.
		// https://devblogs.microsoft.com/microsoft365dev/retirement-of-office-365-connectors-within-microsoft-teams/
		return fmt.Errorf("teams: webhook url %s is a retired Office 365 connector: create a workflow from "+
			"\"When a Teams webhook request is received\" and use its URL", channel.RedactURL(raw))
	}
	if workflowHost(host) {
		q := u.Query()
		if u.Scheme != "https" || !strings.Contains(u.Path, "/workflows/") || !strings.Contains(u.Path, "/triggers/") ||
			q.Get("api-version") == "" || q.Get(sigParam) == "" {
			return fmt.Errorf("teams: webhook url %s is not a workflow trigger URL "+
				"(https://…/workflows/<id>/triggers/manual/paths/invoke?api-version=…&sig=…)", channel.RedactURL(raw))
		}
	}
	return nil
}

// workflowHost reports whether host serves Power Automate workflow triggers: Logic Apps
// regions (prod-00.westus.logic.azure.com) and Power Platform environments
// (<env>.environment.api.powerplatform.com).
// https://learn.microsoft.com/en-us/connectors/teams/?tabs=text1#microsoft-teams-webhook
func workflowHost(host string) bool {
	return strings.HasSuffix(host, ".logic.azure.com") || strings.HasSuffix(host, ".api.powerplatform.com")
}

// legacyConnector reports whether host and path are an Office 365 connector's incoming webhook.
// https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
func legacyConnector(host, path string) bool {
	return strings.HasSuffix(host, ".webhook.office.com") ||
		((host == "outlook.office.com" || host == "outlook.office365.com") && strings.HasPrefix(path, "/webhook"))
}
