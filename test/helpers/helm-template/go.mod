module metalfleet.test/helm-template

go 1.19
