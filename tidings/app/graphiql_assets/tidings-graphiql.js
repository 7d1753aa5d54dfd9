// GraphiQL for Tidings: signed in with a bearer token, queries over HTTP with the
// GraphQL-over-HTTP media type, subscriptions over graphql-transport-ws. Served
// from the package with every asset beside it: nothing is fetched from elsewhere.
"use strict";

(function () {
  const script = document.currentScript;
  const endpoint = new URL(script.dataset.endpoint, window.location.href);
  const socketUrl = new URL(endpoint);
  socketUrl.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  const TOKEN_KEY = "tidings.token";

  const EXAMPLE = `# Tidings: your home timeline as GraphQL. Sign in above (\`tidings dev\`
# prints a link that does it), then run an operation with Ctrl-Enter or the
# play button, which asks which one. Run Live, then Post in a second tab;
# run Notifications to hear of likes and comments on your posts.

query Timeline {
  viewer { id friendCount }
  timeline(first: 10) {
    edges { cursor node { id body author { id } createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}

mutation Post {
  createPost(input: { body: "Hello from GraphiQL" }) { post { id createdAt } }
}

subscription Live {
  timelinePost { id body author { id } createdAt }
}

subscription Notifications {
  notification { kind actorCount actors { id } post { id body } comment { body } read }
}
`;

  // A token in the address's fragment (never sent to a server) signs this tab in.
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  if (fragment.get("token")) {
    sessionStorage.setItem(TOKEN_KEY, fragment.get("token"));
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function claims(jwt) {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part));
    } catch (error) {
      return null;
    }
  }

  function showSignIn() {
    const label = document.getElementById("signed-in-as");
    const current = token();
    const payload = current && claims(current);
    if (!payload) {
      label.textContent = "Not signed in: paste a token, or use the link `tidings dev` prints.";
      return;
    }
    const expires = payload.exp ? new Date(payload.exp * 1000).toLocaleString() : "never";
    label.textContent = `Signed in as ${payload.sub} (token expires ${expires}).`;
  }

  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("token-input");
    const value = input.value.trim().replace(/^Bearer\s+/i, "");
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    input.value = "";
    showSignIn();
  });
  document.getElementById("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn();
  });
  showSignIn();

  function withAuthorization(headers) {
    const merged = Object.assign({}, headers || {});
    const hasOwn = Object.keys(merged).some((name) => name.toLowerCase() === "authorization");
    if (!hasOwn && token()) merged.Authorization = `Bearer ${token()}`;
    return merged;
  }

  function operationType(params, options) {
    const ast = options && options.documentAST;
    const operations = ast
      ? ast.definitions.filter((definition) => definition.kind === "OperationDefinition")
      : [];
    const chosen = params.operationName
      ? operations.find((op) => op.name && op.name.value === params.operationName)
      : operations[0];
    if (chosen) return chosen.operation;
    return /^\s*subscription\b/.test(params.query || "") ? "subscription" : "query";
  }

  async function overHttp(params, headers) {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: Object.assign(
        {
          "Content-Type": "application/json",
          Accept: "application/graphql-response+json, application/json;q=0.9",
        },
        headers,
      ),
      body: JSON.stringify(params),
    });
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch (error) {
      return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 500)}` }] };
    }
  }

  // One operation on its own socket; a refusal or a drop ends it with the
  // server's reason shown, and nothing reconnects behind the user's back.
  async function* overSocket(params, headers) {
    const authorization = Object.entries(headers).find(
      ([name]) => name.toLowerCase() === "authorization",
    );
    const events = [];
    let wake = null;
    let finished = false;
    const push = (event) => {
      events.push(event);
      if (wake) wake();
    };
    const socket = new WebSocket(socketUrl, "graphql-transport-ws");
    const send = (message) => socket.send(JSON.stringify(message));
    socket.onopen = () =>
      send({
        type: "connection_init",
        payload: authorization ? { Authorization: authorization[1] } : {},
      });
    socket.onmessage = (message) => {
      const frame = JSON.parse(message.data);
      if (frame.type === "connection_ack") send({ id: "1", type: "subscribe", payload: params });
      else if (frame.type === "ping") send({ type: "pong" });
      else if (frame.type === "next") push({ result: frame.payload });
      else if (frame.type === "error") {
        finished = true;
        push({ result: { errors: frame.payload }, end: true });
      } else if (frame.type === "complete") {
        finished = true;
        push({ end: true });
      }
    };
    socket.onclose = (close) => {
      if (finished) return;
      finished = true;
      const hint =
        close.code === 4403
          ? " The token is missing, expired or refused, or you hold too many sockets: sign in again."
          : "";
      const message = `The server closed the subscription (${close.code}${close.reason ? " " + close.reason : ""}).${hint}`;
      push({ result: { errors: [{ message, extensions: { closeCode: close.code } }] }, end: true });
    };
    try {
      for (;;) {
        while (events.length === 0) await new Promise((resolve) => (wake = resolve));
        wake = null;
        const event = events.shift();
        if (event.result) yield event.result;
        if (event.end) return;
      }
    } finally {
      if (socket.readyState === WebSocket.OPEN) {
        if (!finished) send({ id: "1", type: "complete" });
        finished = true;
        socket.close(1000, "done");
      }
    }
  }

  function fetcher(params, options) {
    const headers = withAuthorization(options && options.headers);
    return operationType(params, options) === "subscription"
      ? overSocket(params, headers)
      : overHttp(params, headers);
  }

  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: EXAMPLE,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      isHeadersEditorEnabled: true,
      // Tokens stay in this tab's session storage, never in saved headers.
      shouldPersistHeaders: false,
    }),
  );
})();
