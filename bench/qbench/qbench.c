/*
 * qbench.c - hyphae's MPSC queue (sched/mpsc.h) against the C queues a
 * systems programmer would pick instead, all in one process so that every
 * queue sees the same machine state: liburcu's wfcqueue, Concurrency Kit's
 * fifo and rings, and a plain Vyukov intrusive MPSC queue as the textbook
 * reference.  It first prints the machine's floor: uncontended xchg,
 * cmpxchg and xadd, a cross-core cache-line round trip, a contended xadd.
 *
 * Two shapes, each run twice (bench/compare keeps the better pass):
 * push+pop pairs on one thread, in batches of 64 (push 64, pop 64), so
 * every dequeue finds an item; and one producer pinned to cpu1 feeding one
 * consumer on cpu0, 10^6 distinct nodes.  The first measures the
 * instructions of a push and a pop, the second the cache-line traffic
 * between an enqueuer and the dequeuer, which is what a scheduler's run
 * queue pays when another core wakes a task into it.  Results and their
 * reading: the queue section of docs/PERFORMANCE.md.
 *
 * hyphae's consumer takes the consumer lock once and calls
 * mpsc_dequeue_locked() (a queue's owner does that); the "try_dequeue" row
 * takes and drops the lock per pop (mpsc_try_dequeue), and "batch16" takes
 * it per 16 pops, which is what sched_tick() does (cross-core only).
 *
 * Across cores the consumer's policy decides the figure.  The "urcu
 * cds_wfcq" row calls __cds_wfcq_dequeue_blocking, which waits out a
 * producer's half-done enqueue: 9 pauses, then poll() for 10 ms (liburcu's
 * WFCQ_ADAPT_ATTEMPTS and WFCQ_WAIT).  Every other row returns and is
 * polled again after one pause.  So two rows compare like with like: "urcu
 * cds_wfcq nonblocking" is wfcqueue polled like the others
 * (__cds_wfcq_dequeue_nonblocking), and "hyphae mpsc waiting" is hyphae's
 * lock-held dequeue with wfcqueue's wait on MPSC_INCONSISTENT (the same
 * two cases: a link not yet written behind the stub or behind the last
 * node).  The poll() below counts the sleeps of both; each cross-core line
 * reports them.
 *
 * mpsc_enqueue() and the common case of mpsc_dequeue_locked() are inline
 * in sched/mpsc.h, the rest comes from libhyphae.a.  The cross-core shape
 * starts every run with hyphae's nodes unlinked (next NULL), as it does
 * wfcqueue's (cds_wfcq_node_init): otherwise a run would inherit the links
 * of the previous one.  So every enqueue there skips its NULL store, the
 * best case; in the scheduler a node that left a queue through the inline
 * dequeue still has a stale link, and the store happens.
 *
 * Built by mk/benchcmp.mk (needs liburcu-dev and libck-dev: tools/deps
 * bench); its lines are parsed by bench/compare.  `make qbench` runs it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdatomic.h>
#include <x86intrin.h>
#include <urcu/wfcqueue.h>
#include <ck_fifo.h>
#include <ck_ring.h>
#include <dlfcn.h>
#include <poll.h>
#include "sched/mpsc.h"

/* Counts the sleeps of liburcu's blocking dequeue (and of
 * hyphae_dequeue_waiting): the library's call to poll() binds here. */
static _Atomic unsigned long poll_sleeps;
int poll(struct pollfd *fds, nfds_t nfds, int timeout){
  static int (*real_poll)(struct pollfd *, nfds_t, int);
  if(!real_poll) real_poll=(int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT,"poll");
  if(timeout>0) atomic_fetch_add(&poll_sleeps,1);
  return real_poll(fds,nfds,timeout);
}
static double now_ns(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e9+t.tv_nsec;}
static void pin(int c){cpu_set_t s;CPU_ZERO(&s);CPU_SET(c,&s);pthread_setaffinity_np(pthread_self(),sizeof s,&s);}
#define N 10000000UL
static double tsc_ghz;

/* ---------- physical costs ---------- */
static _Alignas(64) _Atomic uint64_t priv;
static void phys(void){
  uint64_t v=0; double t; unsigned long i; uint64_t c0,c1;
  c0=__rdtsc(); t=now_ns(); for(i=0;i<N;i++) v+=atomic_exchange_explicit(&priv,i,memory_order_seq_cst);
  c1=__rdtsc(); t=now_ns()-t; printf("uncontended xchg            %6.2f ns  %6.1f tsc-cycles/op\n",t/N,(double)(c1-c0)/N);
  c0=__rdtsc(); t=now_ns(); for(i=0;i<N;i++){uint64_t e=i; atomic_compare_exchange_strong(&priv,&e,i+1);} 
  c1=__rdtsc(); t=now_ns()-t; printf("uncontended lock cmpxchg    %6.2f ns  %6.1f tsc-cycles/op\n",t/N,(double)(c1-c0)/N);
  c0=__rdtsc(); t=now_ns(); for(i=0;i<N;i++) v+=atomic_fetch_add(&priv,1);
  c1=__rdtsc(); t=now_ns()-t; printf("uncontended lock xadd       %6.2f ns  %6.1f tsc-cycles/op\n",t/N,(double)(c1-c0)/N);
  c0=__rdtsc(); t=now_ns(); for(i=0;i<N;i++){ atomic_store_explicit(&priv,i,memory_order_release); v+=atomic_load_explicit(&priv,memory_order_acquire);} 
  c1=__rdtsc(); t=now_ns()-t; printf("plain store+load (rel/acq)  %6.2f ns  %6.1f tsc-cycles/op\n",t/N,(double)(c1-c0)/N);
  if(v==42) puts("");
}
static _Alignas(64) _Atomic uint64_t ping; static _Alignas(64) _Atomic uint64_t pong;
#define PP 2000000UL
static void *pong_thr(void*a){pin(1);for(uint64_t i=1;i<=PP;i++){while(atomic_load_explicit(&ping,memory_order_acquire)!=i);atomic_store_explicit(&pong,i,memory_order_release);}return 0;}
static void pingpong(void){
  pthread_t th; pthread_create(&th,0,pong_thr,0); pin(0);
  double t=now_ns(); uint64_t c0=__rdtsc();
  for(uint64_t i=1;i<=PP;i++){atomic_store_explicit(&ping,i,memory_order_release);while(atomic_load_explicit(&pong,memory_order_acquire)!=i);}
  uint64_t c1=__rdtsc(); t=now_ns()-t; pthread_join(th,0);
  printf("cross-core cache-line round trip %6.1f ns (%5.0f cyc); one-way ~%5.1f ns\n",t/PP,(double)(c1-c0)/PP,t/PP/2);
}
static _Alignas(64) _Atomic uint64_t shared_ctr; static _Atomic int go;
static void *cas_thr(void*a){pin((int)(intptr_t)a); while(!atomic_load(&go)); for(unsigned long i=0;i<N/4;i++) atomic_fetch_add(&shared_ctr,1); return 0;}
static void contended(void){
  pthread_t a,b; atomic_store(&go,0); pthread_create(&a,0,cas_thr,(void*)0); pthread_create(&b,0,cas_thr,(void*)1);
  double t=now_ns(); atomic_store(&go,1); pthread_join(a,0); pthread_join(b,0); t=now_ns()-t;
  printf("contended lock xadd, 2 cores  %6.1f ns/op (aggregate)\n",t/(N/2));
}

/* ---------- Vyukov intrusive MPSC ---------- */
struct vnode { _Atomic(struct vnode*) next; };
struct vq { _Alignas(64) _Atomic(struct vnode*) head; _Alignas(64) struct vnode *tail; struct vnode stub; };
static void vq_init(struct vq*q){atomic_store(&q->stub.next,NULL);atomic_store(&q->head,&q->stub);q->tail=&q->stub;}
static inline void vq_push(struct vq*q,struct vnode*n){atomic_store_explicit(&n->next,NULL,memory_order_relaxed);
  struct vnode*prev=atomic_exchange_explicit(&q->head,n,memory_order_acq_rel);atomic_store_explicit(&prev->next,n,memory_order_release);}
static inline struct vnode* vq_pop(struct vq*q){struct vnode*tail=q->tail,*next=atomic_load_explicit(&tail->next,memory_order_acquire);
  if(tail==&q->stub){if(!next)return NULL;q->tail=next;tail=next;next=atomic_load_explicit(&next->next,memory_order_acquire);}
  if(next){q->tail=next;return tail;}
  struct vnode*head=atomic_load_explicit(&q->head,memory_order_acquire); if(tail!=head) return NULL; /* inconsistent: retry later */
  vq_push(q,&q->stub); next=atomic_load_explicit(&tail->next,memory_order_acquire); if(next){q->tail=next;return tail;} return NULL;}

#define QN 1000000UL
#define BATCH 64
struct item { struct vnode v; struct cds_wfcq_node w; ck_fifo_mpmc_entry_t *fe; struct mpsc_node h; };
static struct item *items; static ck_fifo_mpmc_entry_t *fentries;
static struct mpsc_queue HQ; static struct mpsc_node HSTUB;
static struct vq VQ; static struct cds_wfcq_head WH; static struct cds_wfcq_tail WT; static ck_fifo_mpmc_t FQ;
static ck_ring_t RING; static ck_ring_buffer_t *RBUF;
static int which; static _Atomic int start;

static void st_bench(void){
  double t;
  /* single thread: push BATCH then pop BATCH */
  vq_init(&VQ); t=now_ns();
  for(unsigned long r=0;r<QN/BATCH;r++){for(int i=0;i<BATCH;i++)vq_push(&VQ,&items[i].v);for(int i=0;i<BATCH;i++)if(!vq_pop(&VQ))abort();}
  t=now_ns()-t; printf("vyukov mpsc  push+pop (1 thread)     %6.2f ns/pair\n",t/QN);
  mpsc_init(&HQ,&HSTUB); if(!mpsc_consumer_trylock(&HQ))abort(); t=now_ns();
  for(unsigned long r=0;r<QN/BATCH;r++){struct mpsc_node*n;for(int i=0;i<BATCH;i++)mpsc_enqueue(&HQ,&items[i].h);for(int i=0;i<BATCH;i++)if(mpsc_dequeue_locked(&HQ,&n)!=MPSC_ITEM)abort();}
  t=now_ns()-t; mpsc_consumer_unlock(&HQ); printf("hyphae mpsc  push+pop (1 thread)     %6.2f ns/pair\n",t/QN);
  mpsc_init(&HQ,&HSTUB); t=now_ns();
  for(unsigned long r=0;r<QN/BATCH;r++){struct mpsc_node*n;for(int i=0;i<BATCH;i++)mpsc_enqueue(&HQ,&items[i].h);for(int i=0;i<BATCH;i++)if(mpsc_try_dequeue(&HQ,&n)!=MPSC_ITEM)abort();}
  t=now_ns()-t; printf("hyphae mpsc try_dequeue (1 thread)   %6.2f ns/pair (consumer lock per pop)\n",t/QN);
  cds_wfcq_init(&WH,&WT); for(int i=0;i<BATCH;i++)cds_wfcq_node_init(&items[i].w); t=now_ns();
  for(unsigned long r=0;r<QN/BATCH;r++){for(int i=0;i<BATCH;i++)cds_wfcq_enqueue(&WH,&WT,&items[i].w);for(int i=0;i<BATCH;i++)if(!__cds_wfcq_dequeue_blocking(&WH,&WT))abort();}
  t=now_ns()-t; printf("urcu wfcq    enq+deq (1 thread)      %6.2f ns/pair\n",t/QN);
  ck_fifo_mpmc_init(&FQ,malloc(sizeof(ck_fifo_mpmc_entry_t))); t=now_ns();
  for(unsigned long r=0;r<QN/BATCH;r++){for(int i=0;i<BATCH;i++)ck_fifo_mpmc_enqueue(&FQ,&fentries[r*BATCH+i],&items[i]);
    for(int i=0;i<BATCH;i++){void*v;ck_fifo_mpmc_entry_t*g; if(!ck_fifo_mpmc_dequeue(&FQ,&v,&g))abort();}}
  t=now_ns()-t; printf("ck_fifo_mpmc enq+deq (1 thread)      %6.2f ns/pair (fresh entry per enq, no SMR)\n",t/QN);
  ck_ring_init(&RING,1024); t=now_ns();
  for(unsigned long r=0;r<QN/BATCH;r++){for(int i=0;i<BATCH;i++)ck_ring_enqueue_mpmc(&RING,RBUF,&items[i]);for(int i=0;i<BATCH;i++){void*v;if(!ck_ring_dequeue_mpmc(&RING,RBUF,&v))abort();}}
  t=now_ns()-t; printf("ck_ring_mpmc enq+deq (1 thread)      %6.2f ns/pair\n",t/QN);
  ck_ring_init(&RING,1024); t=now_ns();
  for(unsigned long r=0;r<QN/BATCH;r++){for(int i=0;i<BATCH;i++)ck_ring_enqueue_spsc(&RING,RBUF,&items[i]);for(int i=0;i<BATCH;i++){void*v;if(!ck_ring_dequeue_spsc(&RING,RBUF,&v))abort();}}
  t=now_ns()-t; printf("ck_ring_spsc enq+deq (1 thread)      %6.2f ns/pair\n",t/QN);
}
/* 1 producer (cpu1) -> 1 consumer (cpu0), QN distinct nodes */
static void *producer(void*a){pin(1); while(!atomic_load(&start));
  for(unsigned long i=0;i<QN;i++){ switch(which){
    case 0: vq_push(&VQ,&items[i].v); break;
    case 1: cds_wfcq_enqueue(&WH,&WT,&items[i].w); break;
    case 2: while(!ck_ring_enqueue_mpmc(&RING,RBUF,&items[i])) _mm_pause(); break;
    case 3: case 4: case 5: case 7: mpsc_enqueue(&HQ,&items[i].h); break;
    case 6: cds_wfcq_enqueue(&WH,&WT,&items[i].w); break; } }
  return 0;}
/* hyphae's dequeue with __cds_wfcq_dequeue_blocking's wait (see the top). */
static struct mpsc_node *hyphae_dequeue_waiting(void){ int attempt=0;
  for(;;){ struct mpsc_node*n; switch(mpsc_dequeue_locked(&HQ,&n)){ case MPSC_ITEM: return n; case MPSC_EMPTY: return NULL;
      default: if(++attempt>=10){ (void)poll(NULL,0,10); attempt=0; } else _mm_pause(); } } }
static void xcore(int w,const char*name){
  which=w; vq_init(&VQ); mpsc_init(&HQ,&HSTUB); if((w==3||w==7)&&!mpsc_consumer_trylock(&HQ))abort(); cds_wfcq_init(&WH,&WT); ck_ring_init(&RING,1024);
  for(unsigned long i=0;i<QN;i++){ cds_wfcq_node_init(&items[i].w); atomic_store_explicit(&items[i].h.next,NULL,memory_order_relaxed); }
  pthread_t p; atomic_store(&start,0); pthread_create(&p,0,producer,0); pin(0);
  unsigned long sleeps0=atomic_load(&poll_sleeps);
  double t=now_ns(); atomic_store(&start,1); unsigned long got=0, empty=0;
  while(got<QN){ void*r=NULL; switch(w){ case 0: r=vq_pop(&VQ); break; case 1: r=__cds_wfcq_dequeue_blocking(&WH,&WT); break; case 2: if(!ck_ring_dequeue_mpmc(&RING,RBUF,&r)) r=NULL; break;
      case 3: {struct mpsc_node*n; r=mpsc_dequeue_locked(&HQ,&n)==MPSC_ITEM?(void*)n:NULL; break;}
      case 4: {struct mpsc_node*n; r=mpsc_try_dequeue(&HQ,&n)==MPSC_ITEM?(void*)n:NULL; break;}
      case 5: {struct mpsc_node*n; unsigned k=0; if(!mpsc_consumer_trylock(&HQ))abort();
        {struct mpsc_node*b[16]; bool inc; (void)n; k=(unsigned)mpsc_dequeue_batch_locked(&HQ,b,16,&inc);} mpsc_consumer_unlock(&HQ); got+=k; r=k?(void*)1:NULL; if(k)continue; break;}
      case 6: r=__cds_wfcq_dequeue_nonblocking(&WH,&WT); if(r==CDS_WFCQ_WOULDBLOCK) r=NULL; break;
      case 7: r=hyphae_dequeue_waiting(); break; }
    if(r) got++; else { empty++; _mm_pause(); } }
  t=now_ns()-t; pthread_join(p,0); if(w==3||w==7) mpsc_consumer_unlock(&HQ);
  printf("%-28s 1P->1C cross-core  %6.2f ns/item  (%lu empty polls, %lu sleeps)\n",name,t/QN,empty,atomic_load(&poll_sleeps)-sleeps0);
}
int main(void){ setvbuf(stdout,NULL,_IOLBF,0);
  uint64_t c0=__rdtsc(); double t0=now_ns(); struct timespec s={0,100000000}; nanosleep(&s,0); tsc_ghz=(__rdtsc()-c0)/(now_ns()-t0);
  printf("TSC %.3f GHz\n",tsc_ghz); fflush(stdout);
  items=aligned_alloc(64,QN*sizeof *items); memset(items,0,QN*sizeof *items);
  fentries=aligned_alloc(64,QN*sizeof *fentries); RBUF=aligned_alloc(64,1024*sizeof *RBUF);
  pin(0); phys(); pingpong(); contended();
  for(int k=0;k<2;k++) st_bench();
  for(int k=0;k<2;k++){ xcore(0,"vyukov mpsc (intrusive)"); xcore(1,"urcu cds_wfcq (intrusive)"); xcore(2,"ck_ring_mpmc (bounded 1024)");
    xcore(3,"hyphae mpsc (intrusive)"); xcore(4,"hyphae mpsc try_dequeue"); xcore(5,"hyphae mpsc batch16");
    xcore(6,"urcu cds_wfcq nonblocking"); xcore(7,"hyphae mpsc waiting"); }
  return 0;
}
