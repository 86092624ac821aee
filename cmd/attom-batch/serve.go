package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/leadflow/attom-batch/internal/app"
	"github.com/leadflow/attom-batch/internal/web"
)

func (c *cli) serveCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the web UI and its JSON API: upload with an estimate first, watch jobs, cancel, resume, work the leads",
		Long: `Serves pages for managing batch jobs, and the JSON API they use, on the configured backend.

On the embedded default this process drives the jobs it starts (an upload runs to completion
without a terminal) and picks up jobs whose driver is gone, once that driver's lease has
expired. With --backend aws it uploads to incoming/ and reads the deployed stack.

It listens on loopback unless --addr says otherwise; any other address needs
ATTOM_BATCH_UI_TOKEN, which every request must then carry (Authorization: Bearer TOKEN, or
open any page once with ?token=TOKEN). The first line on stdout is the server's URL.`,
		Args: args(cobra.NoArgs),
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on; anything but loopback needs ATTOM_BATCH_UI_TOKEN")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := c.loadConfig()
		if err != nil {
			return err
		}
		token := cfg.UIToken.Reveal()
		if token == "" && !web.LoopbackAddr(addr) {
			return usageError{fmt.Errorf("--addr %s is not loopback: set ATTOM_BATCH_UI_TOKEN first, so only people with the token can reach the UI", addr)}
		}
		sys, err := c.open()
		if err != nil {
			return err
		}
		defer sys.Close()
		var backend web.Backend
		switch s := sys.(type) {
		case embedded:
			backend = web.Embedded(s.Embedded)
		case cloud:
			backend = web.Cloud(s.Cloud)
		default:
			return fmt.Errorf("serve: unknown backend %T", sys)
		}
		srv, err := web.New(web.Options{
			Backend: backend, Token: token, MaxUploadBytes: int64(cfg.UIMaxUploadMB) << 20,
			BackendName: cfg.Backend, Log: app.Logger(),
		})
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
		url := "http://" + ln.Addr().String()
		fmt.Fprintln(c.stdout, url)
		fmt.Fprintf(c.stderr, "attom-batch serve: %s (%s backend); Ctrl-C stops it, and jobs it drives stay resumable\n", url, cfg.Backend)
		if token != "" {
			fmt.Fprintln(c.stderr, "Every request needs the token: open "+url+"/?token=<ATTOM_BATCH_UI_TOKEN> once in a browser")
		}
		srv.Start()
		served := make(chan error, 1)
		go func() { served <- hs.Serve(ln) }()
		ctx := cmd.Context()
		select {
		case <-ctx.Done():
		case err := <-served:
			if !errors.Is(err, http.ErrServerClosed) {
				return err
			}
		}
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = hs.Shutdown(stop)
		return srv.Close(stop)
	}
	return cmd
}
