"""The socket `tidings api --workers N` shares: its connections send at once."""

import asyncio
import socket

from tidings.app.server import listening_socket


async def test_connections_from_the_shared_socket_have_nodelay() -> None:
    listener = listening_socket("127.0.0.1", 0)
    nodelay: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def accepted(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = writer.get_extra_info("socket")
        nodelay.set_result(connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(accepted, sock=listener)
    try:
        port = listener.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        # Without it, a response written in two parts waits for the peer's delayed ACK.
        assert await asyncio.wait_for(nodelay, 5) != 0
        writer.close()
        await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
