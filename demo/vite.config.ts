import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `sessile serve --demo` serves dist/ at `/`, beside the API, so the app calls its own origin.
// For `npm run dev`, start the server on 127.0.0.1:8000 and let Vite proxy to it.
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/v1": "http://127.0.0.1:8000",
      "/demo/outbox": "http://127.0.0.1:8000",
    },
  },
});
