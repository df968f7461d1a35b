addEventListener('beforeprint',function(){document.querySelectorAll('details:not([open])')
.forEach(function(d){d.open=true;d.setAttribute('data-print-opened','')})});
addEventListener('afterprint',function(){document.querySelectorAll('details[data-print-opened]')
.forEach(function(d){d.open=false;d.removeAttribute('data-print-opened')})});
