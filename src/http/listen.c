/* listen: see listen.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "http/listen.h"

/* Fills `ss` with HOST and PORT: an IPv4 or IPv6 literal (brackets allowed
 * around IPv6), "localhost", or a name the resolver knows. */
static int listen_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len,
                       char *err, size_t errlen)
{
  char name[256];
  size_t n = strlen(host);
  if(n >= sizeof(name)) {
    snprintf(err, errlen, "HOST: too long");
    return -1;
  }
  if(n >= 2 && host[0] == '[' && host[n - 1] == ']') {
    memcpy(name, host + 1, n - 2);
    name[n - 2] = 0;
  }
  else
    memcpy(name, host, n + 1);
  /* localhost without the resolver: /etc/hosts may map it to ::1 first,
   * and clients (curl, browsers) try 127.0.0.1 as well. */
  if(!strcasecmp(name, "localhost"))
    snprintf(name, sizeof(name), "127.0.0.1");
  char service[8];
  snprintf(service, sizeof(service), "%d", port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
  struct addrinfo *res = NULL;
  int rc = getaddrinfo(name, service, &hints, &res);
  if(rc != 0 || !res) {
    snprintf(err, errlen, "HOST: cannot listen on '%s': %s", host,
             rc ? gai_strerror(rc) : "no address");
    return -1;
  }
  memcpy(ss, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

int http_listen_open(const char *host, int port, char *err, size_t errlen)
{
  struct sockaddr_storage ss;
  socklen_t len = 0;
  if(listen_addr(host, port, &ss, &len, err, errlen) != 0)
    return -1;
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if(fd < 0) {
    snprintf(err, errlen, "HOST: cannot open a socket for '%s': %s", host, strerror(errno));
    return -1;
  }
  /* SO_REUSEADDR lets a restart bind while old connections sit in
   * TIME_WAIT; SO_REUSEPORT is not set, so a second server on the same
   * port fails here instead of silently sharing the connections. "::"
   * takes IPv4 clients too. */
  int on = 1, off = 0;
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if(ss.ss_family == AF_INET6)
    (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  if(bind(fd, (struct sockaddr *)&ss, len) != 0) {
    int e = errno;
    if(e == EADDRINUSE)
      snprintf(err, errlen, "PORT: %d is already in use on %s (is another server running?)",
               port, host);
    else
      snprintf(err, errlen, "PORT: cannot listen on %s port %d: %s", host, port, strerror(e));
    close(fd);
    return -1;
  }
  if(listen(fd, 1024) != 0) {
    snprintf(err, errlen, "PORT: cannot listen on %s port %d: %s", host, port, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}
